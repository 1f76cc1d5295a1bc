/** Roles carried in JWTs; the values are what the token and the API answers contain. */
export enum Role {
  Admin = 'ADMIN',
  Employee = 'EMPLOYEE',
}

export function isRole(value: unknown): value is Role {
  return value === Role.Admin || value === Role.Employee;
}
