//! The metrics page: metric families read at scrape time, written by `prometheus-client`
//! in the format the scraper's `Accept` header asks for.
//!
//! The order path keeps its relaxed atomics ([`super::Metrics`]); a scrape copies them into
//! [`Family`] values, registers those as one `prometheus-client` collector, and the library
//! writes every line: `HELP`/`TYPE`, the `_total` suffix of counters, label escaping,
//! cumulative histogram buckets with `+Inf`, `_sum` and `_count`, and the `# EOF` of
//! OpenMetrics. No `_created` series are written (the collector has no creation time), so
//! both formats carry the same series.
//!
//! Two formats, chosen per scrape ([`Format::negotiate`]):
//! - OpenMetrics 1.0.0 text when the `Accept` header prefers `application/openmetrics-text`
//!   (Prometheus asks for it first by default). Counter families are named without
//!   `_total` in `HELP`/`TYPE`, samples keep it; the page ends in `# EOF`.
//! - Otherwise the Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), which is what
//!   the page always served. Not the OpenMetrics bytes under a `text/plain` type: the classic
//!   parser reads `# TYPE simgw_orders counter` as a family with no samples and the
//!   `simgw_orders_total` samples as untyped, and older parsers refuse `# EOF`. The library's
//!   own 0.0.4 encoder keeps `_total` in `HELP`/`TYPE`, writes no `# EOF`, and prints `le`
//!   and `+Inf` as the Go client does, so the page reads as it did before.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of the OpenMetrics text format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of the Prometheus text format 0.0.4.
pub const PROMETHEUS: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// An exposition format the metrics page can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4 (the default).
    Prometheus,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` (version 1.0.0 or none) with a quality above zero and
    /// at least that of any range matching `text/plain`; the Prometheus text otherwise,
    /// also for no header, `*/*`, or a header that cannot be read.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let (mut openmetrics, mut text) = (0.0f32, 0.0f32);
        for range in accept.unwrap_or("").split(',') {
            let mut parts = range.split(';').map(str::trim);
            let mime = parts.next().unwrap_or("").to_ascii_lowercase();
            let (mut q, mut version) = (1.0f32, None);
            for p in parts {
                let Some((k, v)) = p.split_once('=') else {
                    continue;
                };
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => {
                        q = v
                            .trim()
                            .parse()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))
                            .unwrap_or(0.0)
                    }
                    "version" => version = Some(v.trim().trim_matches('"').to_owned()),
                    _ => {}
                }
            }
            match mime.as_str() {
                "application/openmetrics-text"
                    if version.as_deref().is_none_or(|v| v == "1.0.0") =>
                {
                    openmetrics = openmetrics.max(q);
                }
                "text/plain" if version.as_deref().is_none_or(|v| v == "0.0.4") => {
                    text = text.max(q)
                }
                "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => PROMETHEUS,
            Format::OpenMetrics => OPENMETRICS,
        }
    }
}

/// What kind of metric a family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up; named without `_total` (the encoder appends it).
    Counter,
    /// A value at scrape time.
    Gauge,
    /// Observations in cumulative buckets.
    Histogram,
}

/// One sample's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A counter's count.
    Count(u64),
    /// A whole gauge value (written without a decimal point).
    Int(i64),
    /// A gauge value that may be fractional or infinite.
    Float(f64),
    /// A histogram: the count in each bucket (not cumulative; the last bound is `+Inf`),
    /// and the sum of the observations.
    Histogram {
        /// (upper bound, observations in this bucket alone).
        buckets: Vec<(f64, u64)>,
        /// The sum of all observations.
        sum: f64,
    },
}

impl Value {
    /// A count as a whole gauge value.
    pub fn whole(n: u64) -> Value {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// One metric family: its name, help, kind, and its series (label pairs and a value).
#[derive(Clone, Debug)]
pub struct Family {
    /// The name; a counter's without `_total`.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// The series, in the order they are written.
    pub series: Vec<(Vec<(&'static str, String)>, Value)>,
}

impl Family {
    /// A family with no series yet.
    pub fn new(name: &'static str, help: &'static str, kind: Kind) -> Family {
        Family {
            name,
            help,
            kind,
            series: Vec::new(),
        }
    }

    /// Adds one series.
    pub fn with(mut self, labels: &[(&'static str, &str)], value: Value) -> Family {
        self.push(labels, value);
        self
    }

    /// Adds one series.
    pub fn push(&mut self, labels: &[(&'static str, &str)], value: Value) {
        let labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.series.push((labels, value));
    }

    /// A counter family with one label, a series per (label value, count).
    pub fn counters<'a>(
        name: &'static str,
        help: &'static str,
        label: &'static str,
        counts: impl IntoIterator<Item = (&'a str, u64)>,
    ) -> Family {
        let mut f = Family::new(name, help, Kind::Counter);
        for (v, n) in counts {
            f.push(&[(label, v)], Value::Count(n));
        }
        f
    }
}

/// The families as one `prometheus-client` collector.
#[derive(Debug)]
struct Families(Vec<Family>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for f in &self.0 {
            let kind = match f.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
                Kind::Histogram => MetricType::Histogram,
            };
            let mut m = encoder.encode_descriptor(f.name, f.help, None, kind)?;
            for (labels, value) in &f.series {
                let mut m = m.encode_family(labels)?;
                match value {
                    Value::Count(n) => ConstCounter::new(*n).encode(m)?,
                    Value::Int(n) => ConstGauge::new(*n).encode(m)?,
                    Value::Float(v) => ConstGauge::new(*v).encode(m)?,
                    Value::Histogram { buckets, sum } => {
                        let count = buckets.iter().map(|(_, n)| n).sum();
                        m.encode_histogram::<NoLabelSet>(*sum, count, buckets, None)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Writes the families in `format`.
pub fn encode(format: Format, families: Vec<Family>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(families)));
    let mut out = String::new();
    // Writing to a String fails only if a value cannot be written at all (a histogram
    // without buckets, which `Family` never builds); the page is then what was written.
    let _ = match format {
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
        }
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accept_headers_choose_the_format() {
        use Format::{OpenMetrics as Om, Prometheus as Text};
        for (accept, want) in [
            (None, Text),
            (Some(""), Text),
            (Some("*/*"), Text),
            (Some("text/plain"), Text),
            (Some("text/plain; version=0.0.4"), Text),
            (Some("application/openmetrics-text"), Om),
            (Some("Application/OpenMetrics-Text; Version=1.0.0"), Om),
            (Some("application/openmetrics-text; version=\"1.0.0\""), Om),
            // Prometheus 2.x's default scrape header.
            (
                Some(
                    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                ),
                Om,
            ),
            // Prometheus 3.x's, with the protobuf format we do not offer.
            (
                Some(
                    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
                ),
                Om,
            ),
            (
                Some("application/openmetrics-text;q=0.2, text/plain;q=0.9"),
                Text,
            ),
            (Some("application/openmetrics-text;q=0, */*"), Text),
            (Some("application/openmetrics-text;version=0.0.1"), Text),
            (Some("application/openmetrics-text;q=oops"), Text),
            (Some("application/openmetrics-text, */*"), Om),
            (Some("application/json"), Text),
        ] {
            assert_eq!(Format::negotiate(accept), want, "{accept:?}");
        }
    }

    #[test]
    fn counters_keep_total_and_histograms_are_cumulative_in_both_formats() {
        let families = || {
            vec![
                Family::counters("x_calls", "Calls.", "result", [("ok", 2), ("err", 0)]),
                Family::new("x_wait_seconds", "Wait.", Kind::Gauge)
                    .with(&[], Value::Float(f64::INFINITY)),
                Family::new("x_seconds", "Latency.", Kind::Histogram).with(
                    &[],
                    Value::Histogram {
                        buckets: vec![(0.0005, 1), (1.0, 1), (f64::INFINITY, 1)],
                        sum: 60.0203,
                    },
                ),
            ]
        };
        let text = encode(Format::Prometheus, families());
        for line in [
            "# HELP x_calls_total Calls.\n# TYPE x_calls_total counter\n",
            "x_calls_total{result=\"ok\"} 2\n",
            "x_wait_seconds +Inf\n",
            "x_seconds_bucket{le=\"0.0005\"} 1\n",
            "x_seconds_bucket{le=\"1\"} 2\n",
            "x_seconds_bucket{le=\"+Inf\"} 3\n",
            "x_seconds_count 3\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("# EOF"), "{text}");
        let om = encode(Format::OpenMetrics, families());
        for line in [
            "# TYPE x_calls counter\n",
            "x_calls_total{result=\"ok\"} 2\n",
            "x_seconds_bucket{le=\"1.0\"} 2\n",
            "x_seconds_bucket{le=\"+Inf\"} 3\n",
        ] {
            assert!(om.contains(line), "{line:?} in\n{om}");
        }
        assert!(om.ends_with("# EOF\n"), "{om}");
    }

    #[test]
    fn label_values_are_escaped() {
        let f =
            Family::new("x", "X.", Kind::Gauge).with(&[("tenant", "a\"b\\c\nd")], Value::Int(1));
        let text = encode(Format::Prometheus, vec![f]);
        assert!(text.contains("x{tenant=\"a\\\"b\\\\c\\nd\"} 1\n"), "{text}");
    }

    proptest! {
        #[test]
        fn negotiation_reads_any_header(accept in ".{0,200}") {
            let f = Format::negotiate(Some(&accept));
            prop_assert!(matches!(f, Format::Prometheus | Format::OpenMetrics));
        }

        #[test]
        fn a_header_without_openmetrics_gets_the_prometheus_text(accept in "[a-z/*;=.,0-9 ]{0,80}") {
            prop_assume!(!accept.contains("openmetrics"));
            prop_assert_eq!(Format::negotiate(Some(&accept)), Format::Prometheus);
        }
    }
}
