import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { Trim } from '@app/common';
import { IsBooleanMap, IsEmailOrEmpty, IsEnrollIdText, IsUsername } from './employee-fields';

export class CreateEmployeeDto {
  @ApiProperty({ example: '121', description: 'User id on the terminals: digits, unique among your employees' })
  @IsEnrollIdText()
  enroll_id: string;

  @ApiProperty({ example: 'asd', description: '3-64 characters: letters, digits, . _ -' })
  @IsUsername()
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
  @IsEmailOrEmpty()
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
