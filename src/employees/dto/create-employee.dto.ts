import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ENROLL_ID_PATTERN, EnrollIdFromNumber, IsBooleanMap, Trim, USERNAME_PATTERN } from './employee-fields';

export class CreateEmployeeDto {
  @ApiProperty({ example: '121', description: 'User id on the terminals: digits, unique among your employees' })
  @EnrollIdFromNumber()
  @IsString()
  @Matches(ENROLL_ID_PATTERN, {
    message: 'enroll_id must be a positive whole number (digits, no leading zero, at most 12)',
  })
  enroll_id: string;

  @ApiProperty({ example: 'asd', description: '3-64 characters: letters, digits, . _ -' })
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 3-64 characters: letters, digits, dot, underscore or dash' })
  username: string;

  @ApiProperty({ example: 'strongPassword', minLength: 8, maxLength: 256 })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password: string;

  @ApiProperty({ example: 'mustafa' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  fullName: string;

  @ApiPropertyOptional({ example: '0770xxxxxxx', maxLength: 32 })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(32)
  phone?: string;

  @ApiPropertyOptional({ example: 'mustafa@example.com', description: 'Empty string = none' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(254)
  @ValidateIf((_o: object, v: unknown) => v !== '')
  @IsEmail({}, { message: 'email must be a valid email address' })
  email?: string;

  @ApiPropertyOptional({ example: true, default: true })
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({
    example: { can_login_app: true, can_view_fingerprint: true },
    description: 'Boolean flags; missing ones take the defaults (can_login_app and can_view_fingerprint true)',
  })
  @IsOptional()
  @IsBooleanMap()
  app_permissions?: Record<string, boolean>;
}
