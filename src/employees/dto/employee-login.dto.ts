import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class EmployeeLoginDto {
  // Not checked against the username rules: a name that cannot exist is answered like any wrong login.
  @ApiProperty({ example: 'emp-86359.mo' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  username: string;

  @ApiProperty({ example: 'password123' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  password: string;
}
