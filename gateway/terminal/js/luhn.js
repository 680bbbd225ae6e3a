// ICCID checks as the clerk types or scans: 18 to 20 digits, the Luhn check over all of
// them (ITU-T E.118). Pure functions.

/** True when the digit string passes the Luhn check (its last digit is the check digit). */
export function luhnOk(digits) {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The ICCID as typed, without the spaces and dashes printed cards group digits with. */
export function normaliseIccid(raw) {
  return String(raw || '').replace(/[\s-]/g, '');
}

/**
 * Where a typed ICCID stands: `empty`, `not_digits`, `short` (fewer than 18 digits),
 * `long` (more than 20), `bad_check` (Luhn fails) or `ok`.
 */
export function iccidState(raw) {
  const s = normaliseIccid(raw);
  if (s === '') return 'empty';
  if (!/^\d+$/.test(s)) return 'not_digits';
  if (s.length < 18) return 'short';
  if (s.length > 20) return 'long';
  return luhnOk(s) ? 'ok' : 'bad_check';
}

/**
 * What a look-up box holds (spaces, dashes and a leading `+` ignored): `{msisdn}` for 8
 * to 15 digits, `{iccid}` for 19 or 20 digits passing the Luhn check, else `{error}`
 * (`empty`, `bad_check` for a card number with a wrong check digit, or `invalid`).
 */
export function lineQuery(raw) {
  const s = String(raw || '').replace(/[\s-]/g, '').replace(/^\+/, '');
  if (s === '') return { error: 'empty' };
  if (!/^\d+$/.test(s)) return { error: 'invalid' };
  if (s.length >= 8 && s.length <= 15) return { msisdn: s };
  if (s.length === 19 || s.length === 20) return luhnOk(s) ? { iccid: s } : { error: 'bad_check' };
  return { error: 'invalid' };
}
