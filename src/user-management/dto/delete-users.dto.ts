import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsInt, Max, Min } from 'class-validator';
import { ArrayDistinct, TruncateArrayPast } from './id-array';
import { MAX_ENROLL_ID, MIN_ENROLL_ID } from './enroll-id';

/** Bound on one request's work: every id becomes an operation document. */
/** Enroll ids in one delete-users or transfer-users request. */
export const MAX_IDS_PER_REQUEST = 10_000;

export class DeleteUsersDto {
  @ApiProperty({
    example: [2, 3, 15],
    type: [Number],
    description: `1 to ${MAX_IDS_PER_REQUEST} distinct enroll ids (integers ${MIN_ENROLL_ID}..${MAX_ENROLL_ID})`,
  })
  @TruncateArrayPast(MAX_IDS_PER_REQUEST)
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_IDS_PER_REQUEST)
  @ArrayDistinct('enrollIds must not contain duplicates')
  @IsInt({ each: true })
  @Min(MIN_ENROLL_ID, { each: true })
  @Max(MAX_ENROLL_ID, { each: true })
  enrollIds: number[];
}
