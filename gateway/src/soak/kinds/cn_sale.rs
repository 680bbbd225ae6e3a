//! China store sales (`cn_sale`): a physical activation of the `cn` market tenant through
//! its registered store, with a resident ID read by the card reader and a face match, so
//! each order runs the real-name checks (the identity verifier simulator, the per-ID line
//! limit, the velocity counters, the audit chain) before the HLR. One synthetic ID number
//! per order; its lines stay out of the follow-up pool: they belong to another tenant.

use super::{Ctx, Line, Request, Settled, SoakKind};
use crate::sandbox::SandboxFile;
use crate::soak::target::Tenant;
use adapters::identity::id_format::mod11_2_check;
use serde_json::{Value, json};

/// A well-formed resident ID number (GB 11643: region, birth date, sequence, check
/// character), distinct for each order index below 336,000.
pub(super) fn resident_id(index: u64) -> String {
    let body = format!(
        "1101051985{:02}{:02}{:03}",
        1 + index % 12,
        1 + index / 12 % 28,
        index / 336 % 1000
    );
    let check = char::from(mod11_2_check(body.as_bytes()));
    format!("{body}{check}")
}

/// A China store sale (`cn_sale`).
pub(crate) struct CnSale;

impl SoakKind for CnSale {
    fn name(&self) -> &'static str {
        "cn_sale"
    }

    fn weight(&self) -> u32 {
        3
    }

    fn request(&self, ctx: &Ctx<'_>, _line: Option<&Line>) -> Option<Request> {
        let market = ctx.info.markets.get("cn")?;
        let iccid = ctx.stock.cn()?;
        let s = &market.store;
        Some(Request {
            tenant: Tenant::Cn,
            path: "/v1/activations".into(),
            body: json!({
                "sim": {"type": "physical", "iccid": iccid},
                "product": market.product,
                "channel": {"kind": "store", "store_id": s.store_id, "terminal_id": s.terminal_id, "staff_id": s.staff_id},
                "subscriber": {
                    "name": "王小明", "id_type": "resident_id", "id_number": resident_id(ctx.unique() % 336_000),
                    "nationality": "CHN",
                    "capture": {"method": "card_reader", "reader_serial": s.reader_serial},
                    "evidence": {"face_match": {"transaction_id": format!("soak-fm-{}", ctx.index), "score": 0.91, "liveness": true}}
                }
            }),
            setup: Vec::new(),
        })
    }

    fn terminal(&self) -> &'static [&'static str] {
        &["active", "failed"]
    }

    fn settle(&self, _ctx: &Ctx<'_>, _line: Option<Line>, _order: &Value) -> Settled {
        Settled::default()
    }

    fn lacks(&self, info: &SandboxFile) -> Vec<&'static str> {
        match info.markets.contains_key("cn") {
            true => Vec::new(),
            false => vec!["markets.cn"],
        }
    }
}
