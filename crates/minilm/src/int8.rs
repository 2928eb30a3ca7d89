//! [`Int8Linear`]: a linear layer that multiplies in integers, straight from the
//! asset's int8 rows. Each token's input row is scaled to 13-bit integers (one scale
//! per row), each output is an exact integer dot product times the two scales, plus
//! the bias.
//!
//! Why: the encoder's time is its six layers' matrix products, and in the page's
//! worker an integer dot product does eight multiply-adds per wasm SIMD instruction
//! (`i32x4.dot_i16x8_s`) where f32 does four in two. Integer sums are exact, so the
//! page and native code give bit-identical products; 13 bits keep the input error
//! under 1/16,000 of a row's range (`tests/reference.rs` measures the whole cost).

use candle_core::{Module, Tensor};

/// The largest input integer: 8191 × 128 (an int8 weight) × [`MAX_INPUTS`] stays under
/// `i32::MAX`, so no dot product can overflow.
const INPUT_MAX: f32 = 8191.0;
/// The widest row an int8 matrix may have (MiniLM's widest is 1536); `weights::load`
/// refuses wider ones.
pub const MAX_INPUTS: usize = 2048;

/// A matrix as int8 rows (widened to i16 for the dot product) and a scale per row:
/// `w[r][c] ≈ values[r * cols + c] * scales[r]`.
pub struct Int8Rows {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<i16>,
    pub scales: Vec<f32>,
}

/// `x · wᵀ + b` over [`Int8Rows`], as candle's `Linear` computes it over f32.
pub struct Int8Linear {
    weight: Int8Rows,
    bias: Vec<f32>,
}

impl Int8Linear {
    pub fn new(weight: Int8Rows, bias: Vec<f32>) -> Self {
        Int8Linear { weight, bias }
    }

    /// The outputs of `n` input rows of `cols` floats each, row after row.
    fn apply(&self, x: &[f32], n: usize) -> Vec<f32> {
        let Int8Rows {
            rows,
            cols,
            values,
            scales,
        } = &self.weight;
        let mut input = vec![0i16; n * cols];
        let mut input_scales = vec![0f32; n];
        for ((row, q), scale) in x
            .chunks_exact(*cols)
            .zip(input.chunks_exact_mut(*cols))
            .zip(&mut input_scales)
        {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            *scale = if max > 0.0 { max / INPUT_MAX } else { 1.0 };
            let inverse = 1.0 / *scale;
            for (q, v) in q.iter_mut().zip(row) {
                // Ties to even: one wasm instruction (`f32.nearest`), where `round` is
                // a library call, on every input of every layer.
                *q = (v * inverse).round_ties_even() as i16;
            }
        }
        let weight_rows: Vec<&[i16]> = values.chunks_exact(*cols).collect();
        let input_rows: Vec<&[i16]> = input.chunks_exact(*cols).collect();
        let mut out = vec![0f32; n * rows];
        let mut put = |r: usize, t: usize, dot: i32| {
            out[t * rows + r] = dot as f32 * input_scales[t] * scales[r] + self.bias[r];
        };
        // Two weight rows by four input rows at a time: each weight read serves four
        // products, each input read two.
        for r in (0..*rows).step_by(2) {
            let pair = [weight_rows[r], weight_rows[(r + 1).min(rows - 1)]];
            let pair_rows = (rows - r).min(2);
            let mut t = 0;
            while t + 4 <= n {
                let quad = [
                    input_rows[t],
                    input_rows[t + 1],
                    input_rows[t + 2],
                    input_rows[t + 3],
                ];
                emit(&dots(pair, quad), r, pair_rows, t, &mut put);
                t += 4;
            }
            for (t, row) in input_rows.iter().enumerate().skip(t) {
                emit(&dots(pair, [row]), r, pair_rows, t, &mut put);
            }
        }
        out
    }
}

impl Module for Int8Linear {
    /// `x` is `(…, cols)`; the result is `(…, rows)`.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut shape = x.dims().to_vec();
        let cols = shape.pop().unwrap_or_default();
        if cols != self.weight.cols || self.bias.len() != self.weight.rows {
            return Err(candle_core::Error::Msg(format!(
                "an int8 layer of {} inputs was given {cols}",
                self.weight.cols
            )));
        }
        let n = x.elem_count() / cols.max(1);
        let values = x.flatten_all()?.to_vec1::<f32>()?;
        shape.push(self.weight.rows);
        Tensor::from_vec(self.apply(&values, n), shape, x.device())
    }
}

/// Hands the products of weight rows `r..r + pair_rows` with input rows `t..t + T` to
/// `put(row, input row, product)`.
fn emit<const T: usize>(
    products: &[[i32; T]; 2],
    r: usize,
    pair_rows: usize,
    t: usize,
    put: &mut impl FnMut(usize, usize, i32),
) {
    for (k, row) in products.iter().enumerate().take(pair_rows) {
        for (j, product) in row.iter().enumerate() {
            put(r + k, t + j, *product);
        }
    }
}

/// The exact integer dot products of two weight rows with `T` input rows, all of one
/// length: `[[w0·x0, w0·x1, …], [w1·x0, …]]`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn dots<const T: usize>(w: [&[i16]; 2], x: [&[i16]; T]) -> [[i32; T]; 2] {
    use core::arch::wasm32::*;
    let cols = w[0].len();
    assert!(w[1].len() == cols && x.iter().all(|x| x.len() == cols));
    let mut acc = [[i32x4_splat(0); T]; 2];
    let mut c = 0;
    while c + 8 <= cols {
        // SAFETY: every row holds `cols` i16 (asserted above) and c + 8 <= cols, so
        // each 16-byte load stays inside its row; wasm allows unaligned loads.
        unsafe {
            let w0 = v128_load(w[0].as_ptr().add(c) as *const v128);
            let w1 = v128_load(w[1].as_ptr().add(c) as *const v128);
            for t in 0..T {
                let xt = v128_load(x[t].as_ptr().add(c) as *const v128);
                acc[0][t] = i32x4_add(acc[0][t], i32x4_dot_i16x8(w0, xt));
                acc[1][t] = i32x4_add(acc[1][t], i32x4_dot_i16x8(w1, xt));
            }
        }
        c += 8;
    }
    let mut out = [[0; T]; 2];
    for r in 0..2 {
        for t in 0..T {
            let a = acc[r][t];
            out[r][t] = i32x4_extract_lane::<0>(a)
                + i32x4_extract_lane::<1>(a)
                + i32x4_extract_lane::<2>(a)
                + i32x4_extract_lane::<3>(a)
                + dot(&w[r][c..], &x[t][c..]);
        }
    }
    out
}

/// [`dots`] natively: with AVX2 when the processor has it (the native embedding of
/// setup's handbook vectors and of the tests), else the portable sums.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn dots<const T: usize>(w: [&[i16]; 2], x: [&[i16]; T]) -> [[i32; T]; 2] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { dots_avx2(w, x) };
    }
    w.map(|w| x.map(|x| dot(w, x)))
}

/// [`dots`] in AVX2: `vpmaddwd` multiplies sixteen i16 pairs and adds neighbours into
/// eight exact i32 sums, the x86 twin of the page's `i32x4.dot_i16x8_s`.
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dots_avx2<const T: usize>(w: [&[i16]; 2], x: [&[i16]; T]) -> [[i32; T]; 2] {
    use std::arch::x86_64::*;
    let cols = w[0].len();
    assert!(w[1].len() == cols && x.iter().all(|x| x.len() == cols));
    let mut acc = [[_mm256_setzero_si256(); T]; 2];
    let mut c = 0;
    while c + 16 <= cols {
        // Every row holds `cols` i16 (asserted above) and c + 16 <= cols, so each
        // 32-byte load stays inside its row; `loadu` takes any alignment.
        let w0 = _mm256_loadu_si256(w[0].as_ptr().add(c) as *const __m256i);
        let w1 = _mm256_loadu_si256(w[1].as_ptr().add(c) as *const __m256i);
        for t in 0..T {
            let xt = _mm256_loadu_si256(x[t].as_ptr().add(c) as *const __m256i);
            acc[0][t] = _mm256_add_epi32(acc[0][t], _mm256_madd_epi16(w0, xt));
            acc[1][t] = _mm256_add_epi32(acc[1][t], _mm256_madd_epi16(w1, xt));
        }
        c += 16;
    }
    let mut out = [[0; T]; 2];
    for r in 0..2 {
        for t in 0..T {
            let mut lanes = [0i32; 8];
            _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc[r][t]);
            out[r][t] = lanes.iter().sum::<i32>() + dot(&w[r][c..], &x[t][c..]);
        }
    }
    out
}

/// One exact dot product; sixteen independent sums so that the compiler vectorises
/// it. The sums cannot overflow ([`INPUT_MAX`]) and an i16 × i16 product always fits an
/// i32; wrapping adds only spare the sums the checks a debug build would make, which
/// stop vectorisation.
fn dot(a: &[i16], b: &[i16]) -> i32 {
    let mut lanes = [0i32; 16];
    let (a_blocks, b_blocks) = (a.chunks_exact(16), b.chunks_exact(16));
    let mut rest = 0i32;
    for (x, y) in a_blocks.remainder().iter().zip(b_blocks.remainder()) {
        rest = rest.wrapping_add(i32::from(*x) * i32::from(*y));
    }
    for (x, y) in a_blocks.zip(b_blocks) {
        for i in 0..16 {
            lanes[i] = lanes[i].wrapping_add(i32::from(x[i]) * i32::from(y[i]));
        }
    }
    lanes.iter().fold(rest, |sum, lane| sum.wrapping_add(*lane))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel this machine has, at the extremes the sums are sized for (inputs of
    /// ±8191, weights of -128 and 127, rows of 2048) and at widths around the vector
    /// lengths, equals the portable sum exactly.
    #[test]
    fn vector_kernels_equal_the_portable_sums_at_the_extremes() {
        for cols in [1, 5, 8, 15, 16, 17, 41, 2048] {
            let w: [Vec<i16>; 2] = [
                (0..cols)
                    .map(|c| if c % 3 == 0 { -128 } else { 127 })
                    .collect(),
                (0..cols).map(|c| (c % 256) as i16 - 128).collect(),
            ];
            let x: [Vec<i16>; 4] = [
                vec![8191; cols],
                vec![-8191; cols],
                (0..cols)
                    .map(|c| if c % 2 == 0 { 8191 } else { -8191 })
                    .collect(),
                (0..cols).map(|c| ((c * 37) % 8191) as i16).collect(),
            ];
            let w = [w[0].as_slice(), w[1].as_slice()];
            let x = [
                x[0].as_slice(),
                x[1].as_slice(),
                x[2].as_slice(),
                x[3].as_slice(),
            ];
            let portable = w.map(|w| x.map(|x| dot(w, x)));
            let exact = w.map(|w| {
                x.map(|x| {
                    w.iter()
                        .zip(x)
                        .map(|(a, b)| i64::from(*a) * i64::from(*b))
                        .sum::<i64>() as i32
                })
            });
            assert_eq!(portable, exact, "{cols} columns");
            assert_eq!(dots(w, x), portable, "{cols} columns");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2, checked just above.
                assert_eq!(unsafe { dots_avx2(w, x) }, portable, "{cols} columns");
            }
        }
    }

    /// Six input rows (a block of four, then two alone), three weight rows (the last
    /// one without a pair) and 41 columns (not a multiple of eight or sixteen): the
    /// vector kernel of the machine that runs it (AVX2 here, wasm SIMD in the page's
    /// tests) against sums in i64.
    #[test]
    fn products_are_exact_integer_sums_and_close_to_f32() {
        let (rows, cols, n) = (3, 41, 6);
        let bias = [0.5, -1.0, 2.0];
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        let x: Vec<f32> = (0..n * cols)
            .map(|i| ((i * 13 % 17) as f32 - 8.0) / 3.0)
            .collect();
        let mut values = Vec::new();
        let mut scales = Vec::new();
        for row in w.chunks_exact(cols) {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            scales.push(max / 127.0);
            values.extend(row.iter().map(|v| (v / (max / 127.0)).round() as i16));
        }
        let weights = Int8Rows {
            rows,
            cols,
            values: values.clone(),
            scales: scales.clone(),
        };
        let got = Int8Linear::new(weights, bias.to_vec()).apply(&x, n);
        for (t, input) in x.chunks_exact(cols).enumerate() {
            let max = input.iter().fold(0f32, |m, v| m.max(v.abs()));
            let input_scale = max / INPUT_MAX;
            let q: Vec<i64> = input
                .iter()
                .map(|v| (v * (1.0 / input_scale)).round_ties_even() as i64)
                .collect();
            for r in 0..rows {
                let sum: i64 = (0..cols)
                    .map(|c| q[c] * i64::from(values[r * cols + c]))
                    .sum();
                let exact = sum as i32 as f32 * input_scale * scales[r] + bias[r];
                assert_eq!(got[t * rows + r], exact, "row {r} of input {t}");
                let f32_product: f32 =
                    (0..cols).map(|c| input[c] * w[r * cols + c]).sum::<f32>() + bias[r];
                assert!((exact - f32_product).abs() < 0.05 * f32_product.abs().max(1.0));
            }
        }
    }
}
