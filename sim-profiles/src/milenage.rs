//! The MILENAGE authentication and key-generation functions f1, f1*, f2, f3, f4, f5 and
//! f5* (3GPP TS 35.206), and the OP → OPc derivation.
//!
//! Pure functions of their inputs. The AES key schedule is zeroised when a [`Milenage`] is
//! dropped (the `aes` crate's `zeroize` feature), and every intermediate block is held in
//! a [`Zeroizing`] buffer, so nothing derived from K or OPc outlives the call that made it
//! except the outputs themselves.

use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroizing;

use crate::secret::Key128;

/// Rotation r1 in bits (f1, f1*), the TS 35.206 and TCA `rotationConstants` default.
pub const R1: u32 = 64;
/// Rotation r2 in bits (f2, f5).
pub const R2: u32 = 0;
/// Rotation r3 in bits (f3).
pub const R3: u32 = 32;
/// Rotation r4 in bits (f4).
pub const R4: u32 = 64;
/// Rotation r5 in bits (f5*).
pub const R5: u32 = 96;

/// XOR constant c1 as a 128-bit big-endian integer (f1, f1*), the TCA `xoringConstants` default.
pub const C1: u128 = 0;
/// XOR constant c2 (f2, f5).
pub const C2: u128 = 1;
/// XOR constant c3 (f3).
pub const C3: u128 = 2;
/// XOR constant c4 (f4).
pub const C4: u128 = 4;
/// XOR constant c5 (f5*).
pub const C5: u128 = 8;

/// r1..r5 in order, as the TCA `PE-AKAParameter` `rotationConstants` field lists them.
pub const ROTATION_CONSTANTS: [u32; 5] = [R1, R2, R3, R4, R5];
/// c1..c5 in order, as the TCA `PE-AKAParameter` `xoringConstants` field lists them.
pub const XOR_CONSTANTS: [u128; 5] = [C1, C2, C3, C4, C5];

// The rotations are applied as whole-byte rotations, which needs every r to be a multiple
// of 8. Checked at compile time so a changed constant cannot silently compute garbage.
const _: () = {
    let mut i = 0;
    while i < ROTATION_CONSTANTS.len() {
        assert!(ROTATION_CONSTANTS[i] % 8 == 0 && ROTATION_CONSTANTS[i] < 128);
        i += 1;
    }
};

/// One 128-bit block that is zeroised when dropped.
type Block = Zeroizing<[u8; 16]>;

/// OPc = E_K(OP) ⊕ OP: the per-card operator variant derived from the operator-wide OP.
pub fn opc(k: &Key128, op: &Key128) -> Key128 {
    let cipher = Aes128::new(k.expose().into());
    derive_opc(&cipher, op)
}

fn derive_opc(cipher: &Aes128, op: &Key128) -> Key128 {
    let mut block: Block = Zeroizing::new(*op.expose());
    cipher.encrypt_block((&mut *block).into());
    xor_into(&mut block, op.expose());
    Key128::from_bytes(*block)
}

/// MILENAGE keyed with a subscriber key K and its OPc. Debug never shows either.
#[derive(Clone)]
pub struct Milenage {
    /// E_K; its key schedule is zeroised on drop.
    cipher: Aes128,
    opc: Key128,
}

impl std::fmt::Debug for Milenage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Milenage { .. }")
    }
}

impl Milenage {
    /// Keys MILENAGE with K and OPc (the form most HLRs and the TCA profile carry).
    pub fn new(k: &Key128, opc: &Key128) -> Self {
        Self {
            cipher: Aes128::new(k.expose().into()),
            opc: opc.clone(),
        }
    }

    /// Keys MILENAGE with K and the operator-wide OP, deriving OPc first.
    pub fn with_op(k: &Key128, op: &Key128) -> Self {
        let cipher = Aes128::new(k.expose().into());
        let opc = derive_opc(&cipher, op);
        Self { cipher, opc }
    }

    /// f1: the network authentication code MAC-A.
    pub fn f1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let out1 = self.out1(rand, sqn, amf);
        first8(&out1)
    }

    /// f1*: the resynchronisation authentication code MAC-S.
    pub fn f1star(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let out1 = self.out1(rand, sqn, amf);
        last8(&out1)
    }

    /// f2, f3, f4 and f5: (RES, CK, IK, AK) for one RAND.
    pub fn f2345(&self, rand: &[u8; 16]) -> ([u8; 8], Key128, Key128, [u8; 6]) {
        let temp = self.temp(rand);
        let out2 = self.out(&temp, R2, C2);
        let out3 = self.out(&temp, R3, C3);
        let out4 = self.out(&temp, R4, C4);
        (
            last8(&out2),
            Key128::from_bytes(*out3),
            Key128::from_bytes(*out4),
            first6(&out2),
        )
    }

    /// f5*: the anonymity key AK used in resynchronisation (AUTS).
    pub fn f5star(&self, rand: &[u8; 16]) -> [u8; 6] {
        let temp = self.temp(rand);
        first6(&self.out(&temp, R5, C5))
    }

    /// AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A.
    pub fn autn(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 16] {
        let temp = self.temp(rand);
        let ak = Zeroizing::new(first6(&self.out(&temp, R2, C2)));
        let mac_a = first8(&self.out1_from_temp(&temp, sqn, amf));
        let mut autn = [0u8; 16];
        for ((a, s), k) in autn.iter_mut().zip(sqn).zip(ak.iter()) {
            *a = s ^ k;
        }
        autn[6..8].copy_from_slice(amf);
        autn[8..16].copy_from_slice(&mac_a);
        autn
    }

    /// TEMP = E_K(RAND ⊕ OPc).
    fn temp(&self, rand: &[u8; 16]) -> Block {
        let mut temp: Block = Zeroizing::new(*rand);
        xor_into(&mut temp, self.opc.expose());
        self.encrypt(&mut temp);
        temp
    }

    /// OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc, with IN1 = SQN ‖ AMF ‖ SQN ‖ AMF.
    fn out1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> Block {
        let temp = self.temp(rand);
        self.out1_from_temp(&temp, sqn, amf)
    }

    fn out1_from_temp(&self, temp: &Block, sqn: &[u8; 6], amf: &[u8; 2]) -> Block {
        let mut block: Block = Zeroizing::new([0u8; 16]);
        block[0..6].copy_from_slice(sqn);
        block[6..8].copy_from_slice(amf);
        block[8..14].copy_from_slice(sqn);
        block[14..16].copy_from_slice(amf);
        xor_into(&mut block, self.opc.expose());
        rotate(&mut block, R1);
        xor_into(&mut block, &C1.to_be_bytes());
        xor_into(&mut block, temp);
        self.encrypt(&mut block);
        xor_into(&mut block, self.opc.expose());
        block
    }

    /// OUTn = E_K(rot(TEMP ⊕ OPc, r) ⊕ c) ⊕ OPc, for n = 2..5.
    fn out(&self, temp: &Block, r: u32, c: u128) -> Block {
        let mut block: Block = Zeroizing::new(**temp);
        xor_into(&mut block, self.opc.expose());
        rotate(&mut block, r);
        xor_into(&mut block, &c.to_be_bytes());
        self.encrypt(&mut block);
        xor_into(&mut block, self.opc.expose());
        block
    }

    fn encrypt(&self, block: &mut Block) {
        self.cipher.encrypt_block((&mut **block).into());
    }
}

fn xor_into(block: &mut [u8; 16], other: &[u8; 16]) {
    for (b, o) in block.iter_mut().zip(other) {
        *b ^= o;
    }
}

/// Cyclic left rotation by `bits` (a multiple of 8, checked at compile time for r1..r5).
fn rotate(block: &mut [u8; 16], bits: u32) {
    // Reduced mod 16 so any `bits` is a valid rotation and `rotate_left` cannot panic.
    block.rotate_left((bits / 8 % 16) as usize);
}

fn first6(block: &[u8; 16]) -> [u8; 6] {
    let mut out = [0u8; 6];
    out.copy_from_slice(&block[0..6]);
    out
}

fn first8(block: &[u8; 16]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&block[0..8]);
    out
}

fn last8(block: &[u8; 16]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&block[8..16]);
    out
}
