// Fixed lists the page offers (their words are in the message files under `idtype.*`).

/** ID document types the gateway knows (`subscriber.id_type`), most used first. */
export const ID_TYPES = [
  'resident_id',
  'passport',
  'national_id',
  'residence_permit',
  'driving_licence',
  'temporary_resident_id',
  'household_register',
  'hk_macao_travel_permit',
  'taiwan_travel_permit',
  'hk_macao_taiwan_residence_permit',
  'foreign_permanent_resident_id',
];

/** Order statuses after which nothing changes any more. */
export const FINAL_STATUSES = new Set(['active', 'failed', 'completed']);
