//! Profile seeds from a text file (one profile a line) or generated, for the CLI and for
//! rigs that seed the simulator from the same batch the gateway imports.

use super::config::ProfileSeed;
use super::error::SmdpSimError;
use sim_profiles::{Iccid, Imsi, Key128};

/// Parses `iccid,profileType,owner[,imsi[,ki,opc]]` lines; blank lines and lines starting
/// with `#` are skipped. Errors name the line, never its values.
pub fn parse_profile_seeds(text: &str) -> Result<Vec<ProfileSeed>, SmdpSimError> {
    let mut seeds = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| SmdpSimError::Config(format!("profile line {}: {what}", i + 1));
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (iccid, profile_type, owner) = match fields.as_slice() {
            [iccid, t, owner, ..] if !t.is_empty() && !owner.is_empty() => (iccid, t, owner),
            _ => return Err(bad("expected iccid,profileType,owner")),
        };
        let mut seed = ProfileSeed::new(
            iccid.parse::<Iccid>().map_err(|_| bad("invalid ICCID"))?,
            *profile_type,
            *owner,
        );
        match fields.get(3..) {
            Some([]) | None => {}
            Some([imsi]) => {
                seed.imsi = Some(imsi.parse::<Imsi>().map_err(|_| bad("invalid IMSI"))?)
            }
            Some([imsi, ki, opc]) => {
                seed.imsi = Some(imsi.parse::<Imsi>().map_err(|_| bad("invalid IMSI"))?);
                seed.ki = Some(Key128::from_hex(ki).map_err(|_| bad("invalid Ki"))?);
                seed.opc = Some(Key128::from_hex(opc).map_err(|_| bad("invalid OPc"))?);
            }
            Some(_) => return Err(bad("expected 3, 4 or 6 fields")),
        }
        seeds.push(seed);
    }
    Ok(seeds)
}

/// `count` profiles of `profile_type` owned by `owner`, with consecutive ICCIDs whose
/// 18-digit payloads start at `first_payload` (Luhn digit appended).
pub fn generate_profile_seeds(
    count: u32,
    first_payload: u64,
    profile_type: &str,
    owner: &str,
) -> Result<Vec<ProfileSeed>, SmdpSimError> {
    (0..u64::from(count))
        .map(|i| {
            let payload = format!("{:018}", first_payload + i);
            Iccid::from_payload(&payload)
                .map(|iccid| ProfileSeed::new(iccid, profile_type, owner))
                .map_err(|e| SmdpSimError::Config(format!("generated ICCID: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_lines_without_values() {
        let id = |n: u32| {
            Iccid::from_payload(&format!("8986990999{n:08}"))
                .expect("iccid")
                .to_string()
        };
        let text = format!(
            "# comment\n\n{},T,op\n{}F,T,op,001010000000001\n{},T,op,001010000000002,\
             465B5CE8B199B49FAA5F0A2EE238A6BC,CD63CB71954A9F4E48A5994E37A02BAF\n",
            id(1),
            id(2),
            id(3)
        );
        let seeds = parse_profile_seeds(&text).expect("parses");
        assert_eq!(seeds.len(), 3);
        assert!(seeds[0].imsi.is_none());
        assert!(seeds[1].imsi.is_some() && seeds[1].ki.is_none());
        assert!(seeds[2].ki.is_some() && seeds[2].opc.is_some());
        let line = format!("{},T,op,001010000000001,NOTAKEY,00\n", id(1));
        let err = parse_profile_seeds(&line).expect_err("bad key").to_string();
        assert_eq!(err, "invalid configuration: profile line 1: invalid Ki");
        assert!(parse_profile_seeds("1234,T,op").is_err());
        assert!(parse_profile_seeds(&format!("{},T", id(1))).is_err());
    }

    #[test]
    fn generates_consecutive_valid_iccids() {
        let seeds = generate_profile_seeds(3, 898_699_099_900_000_100, "T", "op").expect("ok");
        assert_eq!(seeds.len(), 3);
        assert!(seeds[0].iccid < seeds[1].iccid);
        assert!(seeds.iter().all(|s| s.iccid.as_str().len() == 19));
    }
}
