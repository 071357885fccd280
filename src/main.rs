//! `deploykf-cmp`: Argo CD Config Management Plugin and air-gap toolkit for deployKF.

fn main() -> anyhow::Result<()> {
    Ok(())
}
