import type { Model } from 'mongoose';
import { isObjectIdString } from '@app/common';

/**
 * The one field a token check reads from an account (admin or employee): when its password last
 * changed. Null when the account no longer exists (or the id cannot be one).
 */
export async function findPasswordChangedAt<T extends { passwordChangedAt?: Date | null }>(
  model: Model<T>,
  id: string,
): Promise<{ passwordChangedAt: Date | null } | null> {
  if (!isObjectIdString(id)) return null;
  const doc = await model
    .findById(id, { _id: 0, passwordChangedAt: 1 })
    .lean<{ passwordChangedAt?: Date | null }>()
    .exec();
  return doc ? { passwordChangedAt: doc.passwordChangedAt ?? null } : null;
}
