//! The fast path for the common event: one flat JSON object.
//!
//! Promises: [`is_flat_object`] returns [`Verdict::Valid`] only for a text that is valid JSON
//! (the general scanner in `scan.rs` would accept it; debug builds check this on every call).
//! It recognises `{"key":value,...}` with no whitespace other than spaces between tokens, no
//! brackets other than the outer two (so no nesting, and no brackets inside strings), and
//! values that are strings (escapes included), numbers, `true`, `false` or `null`, of any
//! length. Everything else (also every invalid text) gets [`Verdict::Declined`], and the caller
//! runs the general scanner, which gives the verdict and the error offset. Not promised: that
//! every flat object is recognised (`{}`, and texts the classifier does not handle, such as
//! under 16 bytes with AVX2, are left to the scanner).
//!
//! How: each 64-byte block is classified into bit masks (`classify.rs`). Backslashes are rare:
//! each escape is checked on its own (the scanner's `escape`, so the same rules, surrogates
//! included), and the byte it escapes is taken out of the quote mask. The string interiors are
//! then the prefix XOR of the quote mask. The grammar of a flat object is a handful of mask
//! equations, checked for the whole block at once: a key starts right after `{` or `,`; the
//! closing quote of every key (found by adding the key starts to the string mask: the carry
//! runs through each key's string to its closing quote) is followed by `:`, and every `:`
//! follows one; right after every `:` a value string or a scalar run starts, and nothing else
//! starts anywhere; right after every value comes `,` or the final `}`; every backslash is
//! inside a string. Spaces between tokens (Python's default `{"k": v, "k2": v2}`) are skipped
//! by one more add per relation: a position that lands on a run of spaces is carried through
//! it to the next token. Shifts carry one bit and the adds carry their overflow into the next
//! block. Scalar runs (there are a few per event) are parsed one by one. The UTF-8 check runs
//! only when a byte has bit 7 set. A text over 64 bytes first gets a quick pass that declines
//! it on any bracket (other than the outer two) or control character, so a text that stops
//! being flat late costs one cheap pass, not the full one. When the fast path declines, it
//! hands the first block's masks to the general scanner.

use super::classify::{Block, Classify};
use super::scan::{FirstWindow, escape, literal, number};

/// The scalar (number or literal) starting at `i` ends right before a `,`, `}` or space.
#[inline(always)]
fn scalar_ok(b: &[u8], i: usize) -> bool {
    let end = match b.get(i) {
        Some(b'-' | b'0'..=b'9') => number(b, i),
        Some(b't') => literal(b, i, b"true"),
        Some(b'f') => literal(b, i, b"false"),
        Some(b'n') => literal(b, i, b"null"),
        _ => return false,
    };
    matches!(end, Ok(e) if matches!(b.get(e), Some(b',' | b'}' | b' ')))
}

/// Which bits of the block at `base` hold text (`valid`), and the final `}` if it is in it.
#[inline(always)]
fn block_bits(n: usize, base: usize) -> (u64, u64) {
    let left = n - base;
    if left > 64 {
        (u64::MAX, 0)
    } else {
        (u64::MAX >> (64 - left), 1u64 << (left - 1))
    }
}

/// The fast path's answer.
#[derive(Debug, Clone, Copy)]
pub(super) enum Verdict {
    /// The text is valid JSON.
    Valid,
    /// Not a flat object, or not valid: the general scanner must decide. Carries the
    /// first window's masks when the fast path computed them.
    Declined(Option<FirstWindow>),
}

impl Verdict {
    /// True for [`Verdict::Valid`].
    #[cfg(test)]
    pub fn is_valid(self) -> bool {
        matches!(self, Verdict::Valid)
    }
}

/// The masks of the block at `base`: `first` (already classified) for block 0.
#[inline(always)]
fn block_at(b: &[u8], classify: impl Classify, first: Block, base: usize) -> Option<Block> {
    if base == 0 {
        Some(first)
    } else {
        classify.block(b, base)
    }
}

/// Whether `b` is a flat object (see the module docs); `classify` computes the masks
/// of each 64-byte block.
#[inline(always)]
pub(super) fn is_flat_object(b: &[u8], classify: impl Classify) -> Verdict {
    let n = b.len();
    if n < 3 || b[0] != b'{' || b[n - 1] != b'}' {
        return Verdict::Declined(None);
    }
    // Block 0 is classified once, for both passes, and its masks go to the general scanner if
    // the text is declined (so the scanner never classifies window 0 again).
    let Some(first) = classify.block(b, 0) else {
        return Verdict::Declined(None);
    };
    let decline = Verdict::Declined(Some(FirstWindow {
        stops: first.quote | first.bad,
        high: first.high,
    }));
    if n > 64 {
        // A quick pass first: a bracket (other than the outer two) or a control character
        // anywhere means "not mine", and finding it before the main pass wastes
        // less work when it comes late in a long text.
        let mut base = 0;
        while base < n {
            let Some(m) = block_at(b, classify, first, base) else {
                return decline;
            };
            let (valid, end_brace) = block_bits(n, base);
            if (m.bad & !m.backslash | m.bracket) & valid != u64::from(base == 0) | end_brace {
                return decline;
            }
            base += 64;
        }
    }
    let mut carry = Carry::default();
    if n <= 64 {
        // One block: the same step with every carry a constant 0, which the compiler folds.
        if !block_step(b, &classify, first, 0, &mut carry) {
            return decline;
        }
    } else {
        let mut base = 0;
        while base < n {
            let Some(m) = block_at(b, classify, first, base) else {
                return decline;
            };
            if !block_step(b, &classify, m, base, &mut carry) {
                return decline;
            }
            base += 64;
        }
    }
    if carry.high == 0 || std::str::from_utf8(b).is_ok() {
        Verdict::Valid
    } else {
        Verdict::Declined(None)
    }
}

/// What one block passes to the next: one bit from its last byte for each shifted mask, the
/// add's carry, and the OR of the non-ASCII masks so far.
#[derive(Debug, Clone, Copy, Default)]
struct Carry {
    /// All ones when the previous block ended inside a string.
    in_string: u64,
    /// The index after the last escape sequence checked (it may end in a later block).
    escape_end: usize,
    /// 1 when the previous block ended with the backslash of an escape (so this block's first
    /// byte is escaped).
    escaped_next: u64,
    /// 1 when the previous block ended with a `,` (so this block starts with a key).
    after_comma: u64,
    /// 1 when the previous block ended with a `:` (so this block starts with a value).
    after_colon: u64,
    /// 1 when the previous block ended with a key's closing quote.
    after_key: u64,
    /// 1 when the previous block ended with a value string's closing quote.
    after_value: u64,
    /// 1 when the previous block ended inside a scalar run.
    after_scalar: u64,
    /// 1 when the key-closing add overflowed (a key string runs into this block).
    key_carry: u64,
    /// OR of the non-ASCII masks of the blocks so far.
    high: u64,
    /// For each "what follows" relation (after `{`/`,`, after a key, after `:`, after a
    /// value): 1 when a run of spaces being skipped runs into this block.
    skip: [u64; 4],
}

/// Moves each bit of `p` (a position right after a token) that lands on a space to the first
/// byte after that run of spaces (`space`: the spaces outside strings). The add carries each
/// such bit through its run; `carry` brings in a run from the previous block and takes out
/// one that runs past this block. Bits not on a space stay.
#[inline(always)]
fn skip_spaces(p: u64, space: u64, carry: &mut u64) -> u64 {
    if space == 0 && *carry == 0 {
        return p;
    }
    let (sum, c1) = space.overflowing_add(p & space);
    let (sum, c2) = sum.overflowing_add(*carry);
    *carry = u64::from(c1 | c2);
    (p | sum) & !space
}

/// Checks every escape sequence starting in the block at `base` (`backslash`: its backslashes;
/// the ones before `escape_end` are inside an earlier escape, like the second of `\\` or a
/// surrogate pair's second `\u`). Returns the mask of the bytes they escape (the byte after each
/// escaping backslash), whether the next block's first byte is escaped, and the new
/// `escape_end`; `None` if an escape is invalid. Takes and returns values, not the carry
/// struct, so the carries of the caller can stay in registers.
#[inline(never)]
fn escapes(
    b: &[u8],
    base: usize,
    backslash: u64,
    mut escape_end: usize,
) -> Option<(u64, u64, usize)> {
    let (mut escaped, mut escaped_next) = (0u64, 0u64);
    let mut rest = backslash;
    while rest != 0 {
        let at = base + rest.trailing_zeros() as usize;
        rest &= rest - 1;
        if at < escape_end {
            continue;
        }
        escape_end = escape(b, at + 1).ok()?;
        match (at + 1 - base).checked_sub(64) {
            None => escaped |= 1 << (at + 1 - base),
            Some(_) => escaped_next = 1,
        }
    }
    Some((escaped, escaped_next, escape_end))
}

/// Checks the block at `base` (masks `m`) of the flat object `b`; false if it is not one.
#[inline(always)]
fn block_step(b: &[u8], classify: &impl Classify, m: Block, base: usize, c: &mut Carry) -> bool {
    let (valid, end_brace) = block_bits(b.len(), base);
    // The only brackets: the `{` at 0 and the `}` at the end (checked below to be outside
    // strings). No control characters (so no whitespace other than spaces).
    let start_brace = u64::from(base == 0);
    let braces = start_brace | end_brace;
    let backslash = m.backslash & valid;
    if (m.bad & !backslash | m.bracket) & valid != braces {
        return false;
    }
    // Escapes: the quotes they escape are not quotes. Rare, so checked one by one.
    let mut escaped = c.escaped_next;
    c.escaped_next = 0;
    if backslash != 0 {
        match escapes(b, base, backslash, c.escape_end) {
            Some((e, next, end)) => {
                escaped |= e;
                c.escaped_next = next;
                c.escape_end = end;
            }
            None => return false,
        }
    }
    let quote = m.quote & valid & !escaped;
    let raw = classify.prefix_xor(quote) ^ c.in_string;
    c.in_string = ((raw as i64) >> 63) as u64;
    let string = raw & valid;
    let outside = !(string | quote) & valid;
    let open = quote & string;
    let close = quote & !string;
    // Both braces outside strings, every backslash inside one.
    let mut fail = (braces & !outside) | (backslash & outside);
    let colon = m.colon & outside;
    let comma = m.comma & outside;
    // Spaces between tokens: every "right after" below skips them.
    let space = m.space & outside;
    // Keys: right after `{` or `,`, and every one is a string.
    let key = skip_spaces(
        (comma | start_brace) << 1 | c.after_comma,
        space,
        &mut c.skip[0],
    ) & valid;
    c.after_comma = comma >> 63;
    fail |= key & !open;
    // The closing quote of each key: the add carries through the key's string.
    let (sum, c1) = string.overflowing_add(key);
    let (sum, c2) = sum.overflowing_add(c.key_carry);
    c.key_carry = u64::from(c1 | c2);
    let key_close = sum & !string & valid;
    fail |= (skip_spaces(key_close << 1 | c.after_key, space, &mut c.skip[1]) & valid) ^ colon;
    c.after_key = key_close >> 63;
    // Values: right after every `:` a value string or a scalar run starts, and no string or
    // scalar starts anywhere else.
    let scalar = outside & !(braces | m.colon | m.comma | m.space);
    let prev_scalar = scalar << 1 | c.after_scalar;
    c.after_scalar = scalar >> 63;
    let scalar_start = scalar & !prev_scalar;
    let value = skip_spaces(colon << 1 | c.after_colon, space, &mut c.skip[2]) & valid;
    c.after_colon = colon >> 63;
    fail |= value ^ ((open & !key) | scalar_start);
    // After every value: a `,` or the final `}`, and nothing else is one.
    let value_close = close & !key_close;
    let after = value_close << 1 | c.after_value | (prev_scalar & !scalar);
    let value_end = skip_spaces(after, space, &mut c.skip[3]) & valid;
    c.after_value = value_close >> 63;
    fail |= value_end ^ (comma | end_brace);
    if fail != 0 {
        return false;
    }
    let mut starts = scalar_start;
    while starts != 0 {
        if !scalar_ok(b, base + starts.trailing_zeros() as usize) {
            return false;
        }
        starts &= starts - 1;
    }
    c.high |= m.high & valid;
    true
}
