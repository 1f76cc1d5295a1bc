import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * Failed-login counter of one key (`ip:<addr>`, `admin:<email>`, `employee:<username>`) in a window
 * that starts at the first failure. Kept in MongoDB so that every instance sees the same counts.
 */
@Schema({ collection: 'loginattempts', versionKey: false })
export class LoginAttempt {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ required: true })
  count: number;

  @Prop({ required: true })
  windowStart: Date;

  /** End of the window: the TTL index removes stale counters. */
  @Prop({ required: true })
  expiresAt: Date;
}

export const LoginAttemptSchema = SchemaFactory.createForClass(LoginAttempt);
LoginAttemptSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
