//! `auth.*`: without a valid API key nothing is created or revealed.

use super::{CREATED, no_order_created};
use crate::suite::cases::isolation::random_order_id;
use crate::suite::ctx::{Auth, Ctx, random_hex};

/// No `Authorization` header: 401 `unauthorized` on POST and GET.
pub(crate) async fn missing_key(ctx: &Ctx) -> Result<(), String> {
    refused(ctx, Auth::Missing).await
}

/// A well-formed but unknown key: 401 `unauthorized` on POST and GET.
pub(crate) async fn wrong_key(ctx: &Ctx) -> Result<(), String> {
    let key = format!("sk_sandbox_{}", random_hex(16));
    refused(ctx, Auth::Key(&key)).await
}

async fn refused(ctx: &Ctx, auth: Auth<'_>) -> Result<(), String> {
    let before = ctx.metric(CREATED).await?;
    let body = ctx.body(&ctx.spare_iccid()?).to_string();
    ctx.post_activation(auth, Some(&ctx.idempotency_key()), body)
        .await?
        .expect_problem(401, "unauthorized")?;
    ctx.get(&format!("/v1/activations/{}", random_order_id()), auth)
        .await?
        .expect_problem(401, "unauthorized")?;
    no_order_created(ctx, before).await
}
