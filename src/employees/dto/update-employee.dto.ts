import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsNotEmpty, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import {
  ENROLL_ID_PATTERN,
  EnrollIdFromNumber,
  IfPresent,
  IsBooleanMap,
  Trim,
  USERNAME_PATTERN,
} from './employee-fields';

/** Partial update: only the fields sent change; `null` is refused rather than stored. */
export class UpdateEmployeeDto {
  @ApiPropertyOptional({ example: '122' })
  @IfPresent()
  @EnrollIdFromNumber()
  @IsString()
  @Matches(ENROLL_ID_PATTERN, {
    message: 'enroll_id must be a positive whole number (digits, no leading zero, at most 12)',
  })
  enroll_id?: string;

  @ApiPropertyOptional({ example: 'mustafa.k' })
  @IfPresent()
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 3-64 characters: letters, digits, dot, underscore or dash' })
  username?: string;

  @ApiPropertyOptional({ example: 'anotherStrongPassword', minLength: 8, maxLength: 256 })
  @IfPresent()
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password?: string;

  @ApiPropertyOptional({ example: 'Mustafa Updated' })
  @IfPresent()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  fullName?: string;

  @ApiPropertyOptional({ example: '0770xxxxxxx', maxLength: 32 })
  @IfPresent()
  @Trim()
  @IsString()
  @MaxLength(32)
  phone?: string;

  @ApiPropertyOptional({ example: 'mustafa@example.com', description: 'Empty string removes the email' })
  @IfPresent()
  @Trim()
  @IsString()
  @MaxLength(254)
  @ValidateIf((_o: object, v: unknown) => v !== '')
  @IsEmail({}, { message: 'email must be a valid email address' })
  email?: string;

  @ApiPropertyOptional({ example: false, description: 'false deactivates: login and existing tokens are refused' })
  @IfPresent()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({
    example: { can_login_app: false },
    description: 'Flags to set; flags not sent keep their value',
  })
  @IfPresent()
  @IsBooleanMap()
  app_permissions?: Record<string, boolean>;
}
