import { ApiProperty } from '@nestjs/swagger';
import { EnrollIdList } from './id-array';
import { MAX_ENROLL_ID, MIN_ENROLL_ID } from './enroll-id';

/** Enroll ids in one request (delete-users, transfer-users, device-sync): each becomes an operation. */
export const MAX_IDS_PER_REQUEST = 10_000;

export class DeleteUsersDto {
  @ApiProperty({
    example: [2, 3, 15],
    type: [Number],
    description: `1 to ${MAX_IDS_PER_REQUEST} distinct enroll ids (integers ${MIN_ENROLL_ID}..${MAX_ENROLL_ID})`,
  })
  @EnrollIdList(MAX_IDS_PER_REQUEST)
  enrollIds: number[];
}
