// Helpers of the number-picking and after-sales tests (numbers.spec.mjs,
// after-sales.spec.mjs), beside the suite's own lib/sandbox.mjs and lib/terminal.mjs.
import { request } from './http.mjs';
import { sandbox, shop } from './sandbox.mjs';

/// Which physical SIM each of these tests uses, counted from the END of the shop's list
/// (SIM_INDEX in sandbox.mjs counts from the start), so the two sets never meet.
export const FROM_END = {
  numbersSale: 0,
  numbersAbandon: 1,
  afterSales: 2,
  afterSalesSwap: 3,
  verification: 4,
};

/// The `n`-th physical SIM of a shop counted from the end of its list.
export function iccidFromEnd(n, which = 'cn') {
  const list = shop(which).iccids;
  if (!list || list.length <= n) throw new Error(`${which} has no physical SIM number ${n} from the end`);
  return list[list.length - 1 - n];
}

/// A number as the page shows it (numbers.js formatMsisdn): the last 8 digits in fours.
export function shownMsisdn(m) {
  return m.length > 8 ? `${m.slice(0, -8)} ${m.slice(-8, -4)} ${m.slice(-4)}` : m;
}

/// A call to the operator API with the shop tenant's key and extra `headers` (sandbox.mjs
/// `operator` sends none, and a reservation needs an Idempotency-Key).
export function operatorWith(method, path, body, headers, which = 'cn') {
  const sb = sandbox();
  return request(method, sb.base_url + path, {
    ca: sb.ca,
    headers: { authorization: `Bearer ${shop(which).apiKey}`, ...headers },
    body,
  });
}
