import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsString, MaxLength, MinLength } from 'class-validator';
import { Trim } from '@app/common';
import { IfPresent, IsBooleanMap, IsEmailOrEmpty, IsEnrollIdText, IsUsername } from './employee-fields';

/** Partial update: only the fields sent change; `null` is refused rather than stored. */
export class UpdateEmployeeDto {
  @ApiPropertyOptional({ example: '122' })
  @IfPresent()
  @IsEnrollIdText()
  enroll_id?: string;

  @ApiPropertyOptional({ example: 'mustafa.k' })
  @IfPresent()
  @IsUsername()
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
  @IsEmailOrEmpty()
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
