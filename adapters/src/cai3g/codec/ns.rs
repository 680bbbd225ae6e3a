//! Namespace URIs of CAI3G 1.2 and the Ericsson user-provisioning schemas. Elements are
//! matched by these URIs, never by prefix: peers choose prefixes freely.

/// SOAP 1.1 envelope.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// CAI3G 1.2 (session control, provisioning operations, headers, `Cai3gFault`).
pub const CAI3G: &str = "http://schemas.ericsson.com/cai3g1.2/";
/// EMA user provisioning (`UserProvisioningFault`).
pub const EMA: &str = "http://schemas.ericsson.com/ema/UserProvisioning/";
/// GsmHlr subscription MO.
pub const GSM_HLR: &str = "http://schemas.ericsson.com/ema/UserProvisioning/GsmHlr/";
/// GsmAuc subscription MO.
pub const GSM_AUC: &str = "http://schemas.ericsson.com/ema/UserProvisioning/GsmAuc/";
/// Provisioning gateway fault details (`PGFault`).
pub const PG: &str = "http://schemas.ericsson.com/pg/1.0";
