//! `idempotency.*`: retries with the same Idempotency-Key are safe, and a key cannot be
//! reused for another request.

use super::{CREATED, no_order_created};
use crate::suite::ctx::{Auth, Ctx};

/// The same key and body again: 202 with the first answer and
/// `Idempotent-Replayed: true`.
pub(crate) async fn replay_same_body(ctx: &Ctx) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let result = async {
        if c.reply.header("idempotent-replayed") == Some("true") {
            return Err("the first answer is marked `Idempotent-Replayed: true`".to_owned());
        }
        let before = ctx.metric(CREATED).await?;
        let r = ctx
            .post_activation(Auth::Tenant, Some(&c.key), c.body.clone())
            .await?;
        let replay = r.expect_json(202)?;
        if replay != c.order {
            return Err(format!(
                "replay differs from the first answer: first {}, replay {}",
                c.order, replay
            ));
        }
        if r.header("idempotent-replayed") != Some("true") {
            return Err(format!(
                "replay lacks `Idempotent-Replayed: true` (got {:?})",
                r.header("idempotent-replayed")
            ));
        }
        no_order_created(ctx, before).await
    }
    .await;
    ctx.settle(&c.id).await;
    result
}

/// The same key with another body: 422 `idempotency_key_reused`, nothing created.
pub(crate) async fn key_reused_other_body(ctx: &Ctx) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let result = async {
        // Another card makes the body differ in substance, not just in formatting.
        let other = ctx.body(&ctx.spare_iccid()?).to_string();
        let before = ctx.metric(CREATED).await?;
        ctx.post_activation(Auth::Tenant, Some(&c.key), other)
            .await?
            .expect_problem(422, "idempotency_key_reused")?;
        no_order_created(ctx, before).await
    }
    .await;
    ctx.settle(&c.id).await;
    result
}
