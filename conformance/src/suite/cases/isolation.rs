//! `isolation.*`: orders are only visible to whoever may see them.

use crate::suite::ctx::{Auth, Ctx};

/// An order id no gateway has issued: `act_` and 26 random base32 characters, the shape
/// of real ids, so the lookup (not the id syntax) is what is tested.
pub(crate) fn random_order_id() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let chars: String = crate::suite::ctx::random_bytes(26)
        .into_iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    format!("act_{chars}")
}

/// `GET /v1/activations/{unknown id}`: 404 `activation_not_found`.
pub(crate) async fn unknown_order_404(ctx: &Ctx) -> Result<(), String> {
    ctx.get(
        &format!("/v1/activations/{}", random_order_id()),
        Auth::Tenant,
    )
    .await?
    .expect_problem(404, "activation_not_found")
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_look_real_and_differ() {
        let id = random_order_id();
        assert_eq!(id.len(), 30, "{id}");
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        assert_ne!(id, random_order_id());
    }
}
