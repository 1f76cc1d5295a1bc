import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

export const DEFAULT_APP_PERMISSIONS: Readonly<Record<string, boolean>> = Object.freeze({
  can_login_app: true,
  can_view_fingerprint: true,
});

@Schema({ collection: 'employees', timestamps: true })
export class Employee {
  /** The employee's user id on the terminals: digits, unique per owner. */
  @Prop({ required: true })
  enroll_id: string;

  @Prop({ required: true, unique: true })
  username: string;

  @Prop({ required: true })
  passwordHash: string;

  /** Set by every password change or reset: tokens issued before it are refused. */
  @Prop({ type: Date, default: null })
  passwordChangedAt: Date | null;

  @Prop({ required: true })
  fullName: string;

  @Prop({ default: '' })
  phone: string;

  @Prop({ default: '' })
  email: string;

  @Prop({ default: true })
  isActive: boolean;

  @Prop({ type: Object, default: () => ({ ...DEFAULT_APP_PERMISSIONS }) })
  app_permissions: Record<string, boolean>;

  @Prop({ type: Types.ObjectId, required: true })
  owner: Types.ObjectId;

  createdAt: Date;
  updatedAt: Date;
}

export const EmployeeSchema = SchemaFactory.createForClass(Employee);
EmployeeSchema.index({ owner: 1, enroll_id: 1 }, { unique: true });
// Terminal punches find their employee by enroll_id alone (one organisation per installation).
EmployeeSchema.index({ enroll_id: 1 });
