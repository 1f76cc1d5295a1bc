import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Ip, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ParseObjectIdPipe } from '@app/common';
import { AdminAuth, ApiErrorResponse, AuthUser, CurrentUser, ERROR_EXAMPLES, validationExample } from '../auth';
import { CreateEmployeeDto } from './dto/create-employee.dto';
import { EmployeeLoginDto } from './dto/employee-login.dto';
import { ListEmployeesQueryDto } from './dto/list-employees-query.dto';
import { UpdateEmployeeDto } from './dto/update-employee.dto';
import { CurrentEmployee } from './current-employee.decorator';
import { EmployeeAuth } from './employee-auth.decorator';
import type { EmployeeView } from './employee.view';
import {
  ACCOUNT_INACTIVE_MESSAGE,
  APP_LOGIN_NOT_ALLOWED_MESSAGE,
  EmployeesService,
  INVALID_EMPLOYEE_CREDENTIALS,
} from './employees.service';

const EMPLOYEE_EXAMPLE = {
  _id: '69256416bd792a2ff963a6c9',
  enroll_id: '121',
  username: 'asd',
  fullName: 'mustafa',
  phone: '',
  email: '',
  isActive: true,
  app_permissions: { can_login_app: true, can_view_fingerprint: true },
  owner: '690f78b6dcccc75fb6722fe2',
  createdAt: '2025-11-25T10:00:00.000Z',
  updatedAt: '2025-11-25T10:00:00.000Z',
};
const NOT_FOUND_EXAMPLE = { success: false, error: 'employee_not_found', message: 'No employee with this id' };
const USERNAME_TAKEN_EXAMPLE = { success: false, error: 'username_taken', message: 'This username is already taken' };

@ApiTags('employees')
@Controller('employees')
export class EmployeesController {
  constructor(private readonly employees: EmployeesService) {}

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Employee (mobile app) login: returns an employee JWT. Public (no token).' })
  @ApiBody({
    type: EmployeeLoginDto,
    examples: { employee: { value: { username: 'emp-86359.mo', password: 'password123' } } },
  })
  @ApiOkResponse({
    description: 'Logged in',
    schema: {
      example: {
        message: 'Login successful',
        token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6...',
        result: { ...EMPLOYEE_EXAMPLE, name: 'mustafa' },
      },
    },
  })
  @ApiErrorResponse(400, 'Missing or wrongly typed field', validationExample('username', 'username must be a string'))
  @ApiErrorResponse(401, 'Wrong username or password (the same answer for an unknown username)', {
    success: false,
    error: 'invalid_credentials',
    message: INVALID_EMPLOYEE_CREDENTIALS,
  })
  @ApiErrorResponse(
    403,
    `Right password, but the employee is deactivated (account_inactive) or may not use the app (app_login_not_allowed: "${APP_LOGIN_NOT_ALLOWED_MESSAGE}")`,
    { success: false, error: 'account_inactive', message: ACCOUNT_INACTIVE_MESSAGE },
  )
  @ApiErrorResponse(
    429,
    'Too many failed logins for this username from this address, or from this address on any username',
    ERROR_EXAMPLES.tooManyAttempts,
  )
  async login(@Body() body: EmployeeLoginDto, @Ip() ip: string | undefined) {
    const { token, employee } = await this.employees.login(body.username, body.password, ip);
    // The mobile app reads the employee's name as `name` (the contract's answer).
    return { message: 'Login successful', token, result: { ...employee, name: employee.fullName } };
  }

  @Get('me')
  @EmployeeAuth()
  @ApiOperation({ summary: 'The logged-in employee (without password). Employee token.' })
  @ApiOkResponse({ description: 'The employee', schema: { example: { success: true, item: EMPLOYEE_EXAMPLE } } })
  me(@CurrentEmployee() employee: EmployeeView) {
    return { success: true, item: employee };
  }

  @Get()
  @AdminAuth()
  @ApiOperation({ summary: "List the admin's employees, optionally filtered by text. Admin token." })
  @ApiOkResponse({
    description: 'Employees, newest first',
    schema: { example: { success: true, items: [EMPLOYEE_EXAMPLE] } },
  })
  @ApiErrorResponse(400, 'q is not a single string or is too long', validationExample('q', 'q must be a string'))
  async list(@CurrentUser() user: AuthUser, @Query() query: ListEmployeesQueryDto) {
    return { success: true, items: await this.employees.list(user.owner, query.q) };
  }

  @Get(':id')
  @AdminAuth()
  @ApiOperation({ summary: 'One employee of the admin. Admin token.' })
  @ApiParam({ name: 'id', example: EMPLOYEE_EXAMPLE._id })
  @ApiOkResponse({ description: 'The employee', schema: { example: { success: true, item: EMPLOYEE_EXAMPLE } } })
  @ApiErrorResponse(400, 'Malformed id', ERROR_EXAMPLES.invalidId)
  @ApiErrorResponse(404, 'No such employee (or not yours)', NOT_FOUND_EXAMPLE)
  async get(@CurrentUser() user: AuthUser, @Param('id', ParseObjectIdPipe) id: string) {
    return { success: true, item: await this.employees.get(user.owner, id) };
  }

  @Post()
  @AdminAuth()
  @ApiOperation({ summary: 'Create an employee (a mobile-app user). Admin token.' })
  @ApiBody({
    type: CreateEmployeeDto,
    examples: {
      minimal: { value: { enroll_id: '121', username: 'asd', password: 'strongPassword', fullName: 'mustafa' } },
      full: {
        value: {
          enroll_id: '121',
          username: 'asd',
          password: 'strongPassword',
          fullName: 'mustafa',
          phone: '0770xxxxxxx',
          email: 'mustafa@example.com',
          isActive: true,
          app_permissions: { can_login_app: true, can_view_fingerprint: false },
        },
      },
    },
  })
  @ApiCreatedResponse({ description: 'Created', schema: { example: { success: true, item: EMPLOYEE_EXAMPLE } } })
  @ApiErrorResponse(
    400,
    'Missing, wrongly typed or invalid field',
    validationExample('password', 'password must be longer than or equal to 8 characters'),
  )
  @ApiErrorResponse(
    409,
    'Username taken (username_taken) or enroll_id used by another of your employees (enroll_id_taken)',
    USERNAME_TAKEN_EXAMPLE,
  )
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateEmployeeDto) {
    return { success: true, item: await this.employees.create(user.owner, body) };
  }

  @Put(':id')
  @AdminAuth()
  @ApiOperation({ summary: 'Partial update of an employee (app_permissions flags are merged). Admin token.' })
  @ApiParam({ name: 'id', example: EMPLOYEE_EXAMPLE._id })
  @ApiBody({
    type: UpdateEmployeeDto,
    examples: { contact: { value: { fullName: 'Mustafa Updated', phone: '0770xxxxxxx' } } },
  })
  @ApiOkResponse({ description: 'Updated', schema: { example: { success: true, item: EMPLOYEE_EXAMPLE } } })
  @ApiErrorResponse(
    400,
    'Invalid field or malformed id',
    validationExample('email', 'email must be a valid email address'),
  )
  @ApiErrorResponse(404, 'No such employee (or not yours)', NOT_FOUND_EXAMPLE)
  @ApiErrorResponse(409, 'Username or enroll_id already used', USERNAME_TAKEN_EXAMPLE)
  async update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateEmployeeDto,
  ) {
    return { success: true, item: await this.employees.update(user.owner, id, body) };
  }

  @Delete(':id')
  @AdminAuth()
  @ApiOperation({ summary: 'Delete an employee; their tokens stop working at once. Admin token.' })
  @ApiParam({ name: 'id', example: EMPLOYEE_EXAMPLE._id })
  @ApiOkResponse({
    description: 'Deleted (the deleted employee)',
    schema: { example: { success: true, item: EMPLOYEE_EXAMPLE } },
  })
  @ApiErrorResponse(400, 'Malformed id', ERROR_EXAMPLES.invalidId)
  @ApiErrorResponse(404, 'No such employee (or already deleted)', NOT_FOUND_EXAMPLE)
  async remove(@CurrentUser() user: AuthUser, @Param('id', ParseObjectIdPipe) id: string) {
    return { success: true, item: await this.employees.remove(user.owner, id) };
  }
}
