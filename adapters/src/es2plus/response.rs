//! The response envelope shared by the four order functions: the client's success test
//! (HTTP 200 and `Executed-Success`/`Executed-WithWarning`) and the simulator's encoders.

use super::error::Es2Error;
use super::header::FunctionExecutionStatus;
use super::json::{self, Object};
use super::status;
use serde::Serialize;

/// A function's output members, read from and written next to the response header.
pub trait ResponseBody: Serialize + Sized + sealed::Sealed {
    /// Reads the output members of a successful response (unknown members ignored).
    fn decode_body(obj: &Object) -> Result<Self, Es2Error>;
}

pub(crate) mod sealed {
    /// Only this codec's response bodies implement [`super::ResponseBody`].
    pub trait Sealed {}
}

/// The body of a response that carries the header only (CancelOrder, ReleaseProfile).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderOnly {}

impl sealed::Sealed for HeaderOnly {}

impl ResponseBody for HeaderOnly {
    fn decode_body(_: &Object) -> Result<Self, Es2Error> {
        Ok(Self {})
    }
}

/// A successful (`Executed-Success` or `Executed-WithWarning`) response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response<T> {
    /// The execution status, with the warning's codes if any.
    pub status: FunctionExecutionStatus,
    /// The function's output.
    pub data: T,
}

impl<T> Response<T> {
    /// An `Executed-Success` response.
    pub fn success(data: T) -> Self {
        Self {
            status: FunctionExecutionStatus::success(),
            data,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireHeader<'a> {
    function_execution_status: &'a FunctionExecutionStatus,
}

#[derive(Serialize)]
struct Wire<'a, T: Serialize> {
    header: WireHeader<'a>,
    #[serde(flatten)]
    data: &'a T,
}

/// Decodes a function response. Success means HTTP 200, a JSON object with
/// `header.functionExecutionStatus`, and a success status; any other status becomes
/// [`Es2Error::Failed`] with its codes verbatim and a retry classification.
pub fn decode_response<T: ResponseBody>(
    http_status: u16,
    body: &[u8],
) -> Result<Response<T>, Es2Error> {
    if http_status != 200 {
        return Err(Es2Error::HttpStatus {
            status: http_status,
        });
    }
    let obj = json::parse_object(body)?;
    let header = json::req_obj(&obj, "header", "header")?;
    let fes = json::req_obj(
        header,
        "functionExecutionStatus",
        "header.functionExecutionStatus",
    )?;
    let status = FunctionExecutionStatus::decode(
        fes,
        "header.functionExecutionStatus.status",
        "header.functionExecutionStatus.statusCodeData",
    )?;
    if status.status.is_success() {
        let data = T::decode_body(&obj)?;
        return Ok(Response { status, data });
    }
    let (subject_code, reason_code, subject_identifier, message) = match status.status_code_data {
        Some(d) => (
            d.subject_code,
            d.reason_code,
            d.subject_identifier,
            d.message,
        ),
        None => (String::new(), String::new(), None, None),
    };
    let retryable = status::is_retryable(&status.status, &subject_code, &reason_code);
    Err(Es2Error::Failed {
        status: status.status,
        subject_code,
        reason_code,
        subject_identifier,
        message,
        retryable,
    })
}

/// Encodes a successful response body (HTTP 200) for the simulator.
pub fn encode_response<T: ResponseBody>(resp: &Response<T>) -> Vec<u8> {
    json::to_bytes(&Wire {
        header: WireHeader {
            function_execution_status: &resp.status,
        },
        data: &resp.data,
    })
}

/// Encodes a header-only response (HTTP 200), e.g. `Failed` with its codes.
pub fn encode_failure(status: &FunctionExecutionStatus) -> Vec<u8> {
    json::to_bytes(&Wire {
        header: WireHeader {
            function_execution_status: status,
        },
        data: &HeaderOnly {},
    })
}
