import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, validateSync } from 'class-validator';
import {
  instantRange,
  isInstant,
  IsInstant,
  IsSn,
  IsTimeZone,
  ToBoolean,
  ToCanonicalTimeZone,
  ToInt,
} from './dto-fields';

class Sample {
  @IsOptional()
  @ToInt()
  @IsInt()
  n?: number;

  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'flag must be true or false' })
  flag?: boolean;

  @IsOptional()
  @ToBoolean({ digits: true })
  @IsBoolean()
  bit?: boolean;

  @IsOptional()
  @IsInstant()
  at?: string;

  @IsOptional()
  @ToCanonicalTimeZone()
  @IsTimeZone()
  zone?: string;

  @IsOptional()
  @IsSn({ each: true })
  sns?: string[];
}

function read(query: Record<string, unknown>) {
  const dto = plainToInstance(Sample, query);
  const errors = validateSync(dto).flatMap((e) => Object.values(e.constraints ?? {}));
  return { dto, errors };
}

describe('query field parsing', () => {
  it('reads integers written in decimal and leaves anything else to be refused', () => {
    expect(read({ n: '12' }).dto.n).toBe(12);
    expect(read({ n: '1.5' }).errors).toHaveLength(1);
    expect(read({ n: 'abc' }).errors).toHaveLength(1);
    expect(read({ n: '0x10' }).errors).toHaveLength(1);
    expect(read({ n: '1e1' }).errors).toHaveLength(1);
  });

  it('reads true/false, and 1/0 only where a route has always taken them', () => {
    expect(read({ flag: 'true' }).dto.flag).toBe(true);
    expect(read({ flag: 'false' }).dto.flag).toBe(false);
    expect(read({ flag: '1' }).errors).toEqual(['flag must be true or false']);
    expect(read({ flag: 'maybe' }).errors).toEqual(['flag must be true or false']);
    expect(read({ flag: ['true', 'false'] }).errors).toHaveLength(1);
    expect(read({ bit: '1' }).dto.bit).toBe(true);
    expect(read({ bit: '0' }).dto.bit).toBe(false);
  });

  it('takes strict ISO 8601 instants only, naming the field', () => {
    expect(read({ at: '2025-02-01T00:00:00.000Z' }).errors).toEqual([]);
    expect(read({ at: '2025-02-01' }).errors).toEqual([]);
    expect(read({ at: 'yesterday' }).errors).toEqual(['at must be a valid ISO 8601 date string']);
    expect(read({ at: '2025-02-30' }).errors).toHaveLength(1);
    // ISO week dates pass the ISO check but name no instant a Date can hold.
    expect(isInstant('2025-W05')).toBe(false);
    expect(read({ at: '2025-W05' }).errors).toHaveLength(1);
  });

  it('makes a bare "to" date cover its whole UTC day and leaves instants inclusive', () => {
    expect(instantRange('2025-02-01', '2025-02-05')).toEqual({
      from: new Date('2025-02-01T00:00:00.000Z'),
      to: new Date('2025-02-06T00:00:00.000Z'),
      toExclusive: true,
    });
    expect(instantRange(undefined, '2025-02-05T23:59:59.000Z')).toEqual({ to: new Date('2025-02-05T23:59:59.000Z') });
    expect(instantRange()).toEqual({});
  });

  it('spells a valid time zone canonically and leaves an invalid one to be refused', () => {
    expect(read({ zone: 'asia/baghdad' }).dto.zone).toBe('Asia/Baghdad');
    expect(read({ zone: 'Mars/Olympus' }).errors).toEqual(['zone must be an IANA time zone such as Asia/Baghdad']);
    expect(read({ zone: 5 }).errors).toHaveLength(1);
  });

  it('checks serial numbers by the protocol rule, one by one in a list', () => {
    expect(read({ sns: ['ZXRE06022863', 'A.b_c-1'] }).errors).toEqual([]);
    expect(read({ sns: ['ok', 'bad sn'] }).errors).toHaveLength(1);
    expect(read({ sns: ['x'.repeat(65)] }).errors).toHaveLength(1);
  });
});
