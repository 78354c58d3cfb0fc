/**
 * The partition prefix of the snooze due-listing and its watermark in the notifications
 * table (`Z#<minute>`, `Z#watermark`): the adapter's keys and the wake-up function's IAM
 * condition (it may put and delete only these items) come from here, so they cannot drift.
 */
export const SNOOZE_LISTING_PREFIX = 'Z#';
