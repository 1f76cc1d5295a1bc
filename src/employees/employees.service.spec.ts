import mongoose, { type Connection, type Model, Types } from 'mongoose';
import { type EmbeddedMongo, start } from '@app/embedded-mongo';
import { EmployeesRepository } from './employees.repository';
import { EmployeesService } from './employees.service';
import { Employee, EmployeeSchema } from './schemas/employee.schema';

jest.setTimeout(30_000);

describe('EmployeesService.findRefsByEnrollIds (terminal frames, embedded database)', () => {
  let server: EmbeddedMongo;
  let conn: Connection;
  let model: Model<Employee>;
  let repo: EmployeesRepository;
  let service: EmployeesService;
  const ownerA = new Types.ObjectId();
  const ownerB = new Types.ObjectId();

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
    conn = await mongoose.createConnection(`${server.uri}/employee_refs`).asPromise();
    model = conn.model<Employee>(Employee.name, EmployeeSchema);
    await model.init();
    const employee = (enroll_id: string, owner: Types.ObjectId, isActive = true) => ({
      enroll_id,
      owner,
      isActive,
      username: `u-${enroll_id}-${owner.toHexString()}`,
      passwordHash: 'x',
      fullName: `Person ${enroll_id}`,
    });
    await model.insertMany([
      employee('1', ownerA),
      employee('2', ownerA, false),
      // The same enroll id under two owners: both are answered (the store then assigns neither).
      employee('3', ownerA),
      employee('3', ownerB),
      ...Array.from({ length: 1200 }, (_, i) => employee(String(1000 + i), ownerA)),
    ]);
    repo = new EmployeesRepository(model);
    const unused = {} as never;
    service = new EmployeesService(repo, unused, unused, unused, unused);
  });

  afterAll(async () => {
    await conn?.dropDatabase();
    await conn?.close();
    await server?.stop();
  });

  afterEach(() => jest.restoreAllMocks());

  it('answers lookups made together with one read, each with the employees of its own enroll ids', async () => {
    const reads = jest.spyOn(repo, 'findRefsByEnrollIds');
    const [a, b, c, none] = await Promise.all([
      service.findRefsByEnrollIds(['1', '2']),
      service.findRefsByEnrollIds(['3', '1', '3']),
      service.findRefsByEnrollIds(['404']),
      service.findRefsByEnrollIds([]),
    ]);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(a.map((e) => [e.enroll_id, e.isActive])).toEqual([
      ['1', true],
      ['2', false],
    ]);
    expect(b.map((e) => e.enroll_id)).toEqual(['3', '3', '1']);
    expect(new Set(b.slice(0, 2).map((e) => e.owner))).toEqual(new Set([ownerA.toHexString(), ownerB.toHexString()]));
    expect(Object.keys(a[0]).sort()).toEqual(['_id', 'enroll_id', 'isActive', 'owner']);
    expect(c).toEqual([]);
    expect(none).toEqual([]);
  });

  it('asks at most 1,000 enroll ids per query', async () => {
    const finds = jest.spyOn(model, 'find');
    const ids = Array.from({ length: 1200 }, (_, i) => String(1000 + i));
    const found = await Promise.all([
      service.findRefsByEnrollIds(ids.slice(0, 700)),
      service.findRefsByEnrollIds(ids.slice(700)),
    ]);
    expect(finds).toHaveBeenCalledTimes(2);
    expect(found.map((f) => f.length)).toEqual([700, 500]);
  });

  it('fails the lookups of a read that failed, and reads again for the next ones', async () => {
    jest.spyOn(repo, 'findRefsByEnrollIds').mockRejectedValueOnce(new Error('database gone'));
    const outcomes = await Promise.allSettled([service.findRefsByEnrollIds(['1']), service.findRefsByEnrollIds(['2'])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect((await service.findRefsByEnrollIds(['1'])).map((e) => e.enroll_id)).toEqual(['1']);
  });
});
