import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import { authConfig } from '../config/auth.config';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AdminUsersRepository } from './admin-users.repository';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { CredentialStampsService } from './credential-stamps.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { LoginAttemptsRepository } from './login-attempts.repository';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordHasher } from './password-hasher.service';
import { RolesGuard } from './roles.guard';
import { AdminUser, AdminUserSchema } from './schemas/admin-user.schema';
import { LoginAttempt, LoginAttemptSchema } from './schemas/login-attempt.schema';
import { JWT_ALGORITHM, TokenService } from './token.service';

@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [authConfig.KEY],
      useFactory: (cfg: ConfigType<typeof authConfig>) => ({
        secret: cfg.jwtSecret,
        signOptions: { algorithm: JWT_ALGORITHM },
        verifyOptions: { algorithms: [JWT_ALGORITHM] },
      }),
    }),
    MongooseModule.forFeature([
      { name: AdminUser.name, schema: AdminUserSchema },
      { name: LoginAttempt.name, schema: LoginAttemptSchema },
    ]),
  ],
  controllers: [AuthController],
  providers: [
    AdminUsersRepository,
    LoginAttemptsRepository,
    PasswordHasher,
    TokenService,
    CredentialStampsService,
    LoginThrottleService,
    AuthService,
    AdminBootstrapService,
    JwtStrategy,
    JwtAuthGuard,
    RolesGuard,
  ],
  exports: [
    PassportModule,
    PasswordHasher,
    TokenService,
    CredentialStampsService,
    LoginThrottleService,
    JwtAuthGuard,
    RolesGuard,
  ],
})
export class AuthModule {}
