import { ArgumentMetadata } from '@nestjs/common';
import { AppValidationPipe, ValidationFailedError } from '@app/common';
import { AddUserDto } from './add-user.dto';
import { DeleteUsersDto } from './delete-users.dto';
import { ListUsersQueryDto } from './list-users-query.dto';
import { TransferUsersDto } from './transfer-users.dto';

const pipe = new AppValidationPipe();
const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

async function fieldsOf(value: unknown, metatype: ArgumentMetadata['metatype']): Promise<string[]> {
  try {
    await pipe.transform(value, body(metatype));
  } catch (err) {
    if (err instanceof ValidationFailedError) {
      const res = err.getResponse() as { errors: { field: string }[] };
      return res.errors.map((e) => e.field);
    }
    throw err;
  }
  return [];
}

describe('AddUserDto', () => {
  const valid = { enrollid: 10012, name: 'John Smith1', aliasid: 'JSMITH1', backupnum: 50 };

  it('accepts the contract example and trims text', async () => {
    const dto = (await pipe.transform({ ...valid, name: '  John  ' }, body(AddUserDto))) as AddUserDto;
    expect(dto).toBeInstanceOf(AddUserDto);
    expect(dto.name).toBe('John');
    expect(await fieldsOf({ enrollid: 1, name: 'A', backupnum: 0 }, AddUserDto)).toEqual([]);
    expect(await fieldsOf({ enrollid: 999_999_999_999, name: 'A', backupnum: 9 }, AddUserDto)).toEqual([]);
  });

  it.each([
    [{ ...valid, enrollid: 0 }, 'enrollid'],
    [{ ...valid, enrollid: 1_000_000_000_000 }, 'enrollid'],
    [{ ...valid, enrollid: 1.5 }, 'enrollid'],
    [{ ...valid, enrollid: '10012' }, 'enrollid'],
    [{ ...valid, backupnum: 10 }, 'backupnum'],
    [{ ...valid, backupnum: 13 }, 'backupnum'],
    [{ ...valid, backupnum: -1 }, 'backupnum'],
    [{ ...valid, backupnum: '50' }, 'backupnum'],
    [{ ...valid, name: '   ' }, 'name'],
    [{ ...valid, name: 'x'.repeat(65) }, 'name'],
    [{ ...valid, name: 'é'.repeat(33) }, 'name'],
    [{ enrollid: 5, backupnum: 0 }, 'name'],
    [{ ...valid, aliasid: 12 }, 'aliasid'],
    [{ ...valid, admin: 1 }, 'admin'],
  ])('refuses %j (field %s)', async (input, field) => {
    expect(await fieldsOf(input, AddUserDto)).toContain(field);
  });
});

describe('DeleteUsersDto', () => {
  it('accepts distinct integer ids', async () => {
    expect(await fieldsOf({ enrollIds: [2, 3, 15] }, DeleteUsersDto)).toEqual([]);
  });

  it.each([
    ['empty', { enrollIds: [] }],
    ['duplicate', { enrollIds: [2, 2] }],
    ['not a number', { enrollIds: [2, 'x'] }],
    ['fraction', { enrollIds: [2.5] }],
    ['zero', { enrollIds: [0] }],
    ['above 999,999,999,999', { enrollIds: [1_000_000_000_000] }],
    ['not an array', { enrollIds: 'all' }],
    ['missing', {}],
    ['more than 10,000', { enrollIds: Array.from({ length: 10_001 }, (_, i) => i + 1) }],
  ])('refuses %s ids', async (_label, input) => {
    expect(await fieldsOf(input, DeleteUsersDto)).toContain('enrollIds');
  });
});

describe('TransferUsersDto', () => {
  const valid = { fromSn: 'A1', toSn: 'B2', deleteFromSource: false };

  it('accepts with and without enrollIds', async () => {
    expect(await fieldsOf(valid, TransferUsersDto)).toEqual([]);
    expect(await fieldsOf({ ...valid, enrollIds: [2, 3], deleteFromSource: true }, TransferUsersDto)).toEqual([]);
    expect(await fieldsOf({ ...valid, enrollIds: [123_456_789_012, 999_999_999_999] }, TransferUsersDto)).toEqual([]);
  });

  it.each([
    [{ ...valid, fromSn: '' }, 'fromSn'],
    [{ ...valid, toSn: 5 }, 'toSn'],
    [{ ...valid, enrollIds: [] }, 'enrollIds'],
    [{ ...valid, enrollIds: [3, 3] }, 'enrollIds'],
    [{ ...valid, enrollIds: ['3'] }, 'enrollIds'],
    [{ ...valid, enrollIds: [1_000_000_000_000] }, 'enrollIds'],
    [{ ...valid, deleteFromSource: 'yes' }, 'deleteFromSource'],
    [{ fromSn: 'A1', toSn: 'B2' }, 'deleteFromSource'],
  ])('refuses %j (field %s)', async (input, field) => {
    expect(await fieldsOf(input, TransferUsersDto)).toContain(field);
  });
});

describe('ListUsersQueryDto', () => {
  const query = (value: unknown) => pipe.transform(value, { type: 'query', metatype: ListUsersQueryDto });

  it('reads templates=false / true and defaults to absent', async () => {
    expect(((await query({ templates: 'false' })) as ListUsersQueryDto).templates).toBe(false);
    expect(((await query({ templates: 'true' })) as ListUsersQueryDto).templates).toBe(true);
    expect(((await query({})) as ListUsersQueryDto).templates).toBeUndefined();
  });

  it('refuses other values', async () => {
    await expect(query({ templates: 'maybe' })).rejects.toBeInstanceOf(ValidationFailedError);
  });
});
