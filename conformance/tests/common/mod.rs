//! A test PKI for the simulators' black-box tests: a CA per test and identities it issues
//! for `localhost` and `127.0.0.1`.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A certificate authority.
pub struct Pki {
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct Id {
    pub cert_pem: String,
    pub key_pem: String,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Pki {
    /// A new CA named `cn`.
    pub fn new(cn: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        let ca = ca_params(cn).self_signed(&key).expect("ca");
        Self {
            ca_pem: ca.pem(),
            issuer: Issuer::new(ca_params(cn), key),
        }
    }

    /// An identity named `cn` for `localhost` and `127.0.0.1`, signed by this CA.
    pub fn issue(&self, cn: &str) -> Id {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Id {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}
