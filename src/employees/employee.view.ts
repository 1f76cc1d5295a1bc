import type { Types } from 'mongoose';

/** An employee as other modules and the API see it: never the password hash. */
export interface EmployeeView {
  _id: string;
  enroll_id: string;
  username: string;
  fullName: string;
  phone: string;
  email: string;
  isActive: boolean;
  app_permissions: Record<string, boolean>;
  owner: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What a terminal punch needs of an employee: who owns the punch, and whether the door may open. */
export type EmployeeRef = Pick<EmployeeView, '_id' | 'enroll_id' | 'owner' | 'isActive'>;

export interface EmployeeLean {
  _id: Types.ObjectId;
  enroll_id: string;
  username: string;
  passwordHash?: string;
  fullName: string;
  phone?: string;
  email?: string;
  isActive?: boolean;
  app_permissions?: Record<string, boolean>;
  owner: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

export function toEmployeeView(doc: EmployeeLean): EmployeeView {
  return {
    _id: doc._id.toString(),
    enroll_id: doc.enroll_id,
    username: doc.username,
    fullName: doc.fullName,
    phone: doc.phone ?? '',
    email: doc.email ?? '',
    isActive: doc.isActive !== false,
    app_permissions: { ...(doc.app_permissions ?? {}) },
    owner: doc.owner.toString(),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** `app_permissions.can_login_app` missing counts as allowed (the default). */
export function canLoginApp(employee: EmployeeView): boolean {
  return employee.app_permissions.can_login_app !== false;
}
