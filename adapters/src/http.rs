//! HTTP client (helper)
