import { Body, Controller, HttpCode, HttpStatus, Ip, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth } from './admin-auth.decorator';
import { ApiErrorResponse, ERROR_EXAMPLES, validationExample } from './api-error-docs';
import { AuthService, INVALID_ADMIN_CREDENTIALS } from './auth.service';
import type { AuthUser } from './auth-user';
import { CurrentUser } from './current-user.decorator';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { PasswordChangeRoute } from './password-change-route.decorator';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Admin login: returns an admin JWT. Public (no token).' })
  @ApiBody({ type: LoginDto, examples: { admin: { value: { email: 'admin@timmy.local', password: 'admin123' } } } })
  @ApiOkResponse({
    description:
      'Logged in. With NODE_ENV=production and the default admin password, the answer adds ' +
      '"passwordChangeRequired": true and the token is accepted by POST /api/auth/change-password alone.',
    schema: {
      example: {
        success: true,
        token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6...',
        user: { email: 'admin@timmy.local', name: 'Admin', role: 'ADMIN' },
      },
    },
  })
  @ApiErrorResponse(400, 'Missing or wrongly typed field', validationExample('email', 'email should not be empty'))
  @ApiErrorResponse(401, 'Wrong email or password (the same answer for an unknown email)', {
    success: false,
    error: 'invalid_credentials',
    message: INVALID_ADMIN_CREDENTIALS,
  })
  @ApiErrorResponse(
    429,
    'Too many failed logins for this email from this address, or from this address on any email ' +
      '(failures of one email from many addresses only slow its logins down)',
    ERROR_EXAMPLES.tooManyAttempts,
  )
  async login(@Body() body: LoginDto, @Ip() ip: string | undefined) {
    return { success: true, ...(await this.auth.login(body.email, body.password, ip)) };
  }

  @Post('change-password')
  @HttpCode(HttpStatus.OK)
  @AdminAuth()
  @PasswordChangeRoute()
  @ApiOperation({
    summary:
      "Change the logged-in admin's password. Admin token (also a password-change-only token). The admin's " +
      'older tokens, this one included, are refused afterwards (401 token_revoked): log in again.',
  })
  @ApiOkResponse({ description: 'Changed', schema: { example: { success: true, message: 'Password changed' } } })
  @ApiErrorResponse(400, 'Wrong current password, or a new password shorter than 8 characters', {
    success: false,
    error: 'invalid_current_password',
    message: 'The current password is not correct',
  })
  @ApiErrorResponse(429, 'Too many wrong current passwords', ERROR_EXAMPLES.tooManyAttempts)
  async changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordDto, @Ip() ip: string | undefined) {
    await this.auth.changePassword(user.sub, body.currentPassword, body.newPassword, ip);
    return { success: true, message: 'Password changed' };
  }
}
