//! Applies one decoded CAI3G request to the simulator: Login/Logout against the sessions,
//! Create/Get/Set/Delete (with a valid `SessionId`) against the store. Synchronous: the
//! endpoint decides delays and dropped answers around it.

use super::cai3g_faults;
use super::codec::{Header, MoKind, Operation, Request, Response};
use super::simulator::Simulator;
use super::store::{Store, StoreError};
use crate::common::state_writer::Ticket;
use sim_profiles::Imsi;
use tokio::time::Instant;

/// The operation, kind and subscriber a request is about (for counting, rules and logs).
pub(crate) fn classify(request: &Request) -> (Operation, Option<MoKind>, Option<&Imsi>) {
    let imsi = match request {
        Request::Login { .. } | Request::Logout { .. } => None,
        Request::Create(b) | Request::Set { body: b, .. } => Some(b.imsi()),
        Request::Get(id) | Request::Delete(id) => id.imsi.as_ref(),
    };
    (request.operation(), request.mo_kind(), imsi)
}

/// Performs `request` at `now` and returns the answer (a fault if refused), to be sent once
/// the ticket says the change is kept (see [`Simulator::write_changes`]).
pub(crate) fn execute(
    sim: &Simulator,
    header: &Header,
    request: Request,
    now: Instant,
) -> (Response, Ticket) {
    let answer = |r| (r, Ticket::none());
    match request {
        Request::Login { user_id, pwd } => {
            if !sim.credentials_match(&user_id, pwd.expose()) {
                tracing::warn!(user_id = %user_id, "CAI3G login refused");
                return answer(Response::Fault(cai3g_faults::login_refused()));
            }
            answer(match sim.sessions().open(now) {
                Some(s) => Response::Login {
                    session_id: s.session_id,
                    base_sequence_id: s.base_sequence_id,
                },
                None => Response::Fault(cai3g_faults::busy()),
            })
        }
        Request::Logout { session_id } => answer(if sim.sessions().close(&session_id, now) {
            Response::Logout
        } else {
            Response::Fault(cai3g_faults::invalid_session())
        }),
        Request::Create(body) => with_session(sim, header, now, |s| {
            s.create(body).map(|()| Response::Create)
        }),
        Request::Get(id) => with_session(sim, header, now, |s| s.get(&id).map(Response::Get)),
        Request::Set { id, body } => with_session(sim, header, now, |s| {
            s.set(&id, body).map(|()| Response::Set)
        }),
        Request::Delete(id) => with_session(sim, header, now, |s| {
            s.delete(&id).map(|()| Response::Delete)
        }),
    }
}

/// Runs `f` on the store if the header carries a live session; refusals become faults.
/// What changed is handed to the state file's writer under the store's lock, so the file
/// takes changes in the order they were made.
fn with_session(
    sim: &Simulator,
    header: &Header,
    now: Instant,
    f: impl FnOnce(&mut Store) -> Result<Response, StoreError>,
) -> (Response, Ticket) {
    let live = header
        .session_id
        .as_deref()
        .is_some_and(|id| sim.sessions().touch(id, now));
    if !live {
        return (
            Response::Fault(cai3g_faults::invalid_session()),
            Ticket::none(),
        );
    }
    let mut store = sim.store();
    let answer =
        f(&mut store).unwrap_or_else(|e| Response::Fault(cai3g_faults::for_store_error(e)));
    let kept = sim.write_changes(&mut store);
    (answer, kept)
}

/// A short, key-free description of an answer for logs: `ok` or the fault's code chain.
pub(crate) fn outcome(response: &Response) -> String {
    match response {
        Response::Fault(f) => format!(
            "fault {}/{}",
            f.cai3g_code.as_deref().unwrap_or("-"),
            f.resp_code
                .as_deref()
                .or(f.pg_code.as_deref())
                .unwrap_or("-")
        ),
        _ => "ok".to_owned(),
    }
}
