//! CAI3G (helper is writing this)
