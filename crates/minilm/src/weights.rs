//! The model's weights, read from the original `model.safetensors` (f32 tensors) or
//! from the page's asset: the same file format with every matrix stored as int8 rows
//! and one f32 scale per row (`<name>.scale`), a quarter of the size. The asset's
//! matrices stay int8 ([`Weight::Int8`]) for [`crate::int8::Int8Linear`].
//!
//! Symmetric per-row int8 keeps each row's largest weight exact and the rest within
//! half a step (1/254 of that row's range); `tests/reference.rs` measures what it
//! costs against sentence-transformers' vectors.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::int8::{Int8Rows, MAX_INPUTS};
use crate::MiniLmError;

/// Metadata key holding the tokenizer's `tokenizer.json` inside the asset.
pub const TOKENIZER_KEY: &str = "tokenizer.json";
/// Metadata key naming the asset's layout, checked on load.
const FORMAT_KEY: &str = "format";
/// Bump when [`quantize`]'s output changes: the page's worker names its cache after it.
pub const FORMAT: &str = "ragtrace-minilm-int8-v1";

/// One tensor of the file.
pub enum Weight {
    /// f32 on the CPU: every tensor of the published file, the asset's vectors.
    F32(Tensor),
    /// The asset's matrices, as stored.
    Int8(Int8Rows),
}

impl Weight {
    /// As f32: int8 rows multiplied back by their scales.
    pub fn to_f32(&self) -> Result<Tensor, MiniLmError> {
        match self {
            Weight::F32(t) => Ok(t.clone()),
            Weight::Int8(m) => {
                let values = m
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, q)| f32::from(*q) * m.scales[i / m.cols])
                    .collect();
                Ok(Tensor::from_vec(values, (m.rows, m.cols), &Device::Cpu)?)
            }
        }
    }
}

/// The file's tensors by name.
pub type Tensors = HashMap<String, Weight>;

/// Writes the asset: the matrices of `model_safetensors` as int8 rows with scales, the
/// vectors (biases, norms) as f32, and `tokenizer_json` in the metadata. Tensors the
/// sentence embedding never reads (the pooler, position ids) are left out.
pub fn quantize(model_safetensors: &[u8], tokenizer_json: &str) -> Result<Vec<u8>, MiniLmError> {
    let model = SafeTensors::deserialize(model_safetensors)?;
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in model.tensors() {
        if name.starts_with("pooler.") || view.dtype() != Dtype::F32 {
            continue;
        }
        let values = f32s(&view);
        match view.shape() {
            [rows, cols] => {
                let (bytes, scales) = int8_rows(&values, *cols);
                owned.push((name.clone(), Dtype::I8, vec![*rows, *cols], bytes));
                let scales = scales.iter().flat_map(|s| s.to_le_bytes()).collect();
                owned.push((format!("{name}.scale"), Dtype::F32, vec![*rows], scales));
            }
            shape => owned.push((
                name.clone(),
                Dtype::F32,
                shape.to_vec(),
                view.data().to_vec(),
            )),
        }
    }
    let views = owned
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (TOKENIZER_KEY.to_string(), tokenizer_json.to_string()),
    ]);
    Ok(safetensors::serialize(views, Some(metadata))?)
}

/// Each row as int8 (two's complement bytes) and its scale: `x ≈ q * scale`.
fn int8_rows(values: &[f32], cols: usize) -> (Vec<u8>, Vec<f32>) {
    let mut bytes = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(values.len() / cols);
    for row in values.chunks_exact(cols) {
        let max = row.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        bytes.extend(row.iter().map(|x| (x / scale).round() as i8 as u8));
    }
    (bytes, scales)
}

fn f32s(view: &TensorView) -> Vec<f32> {
    view.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Reads either file: f32 tensors as they are, int8 ones with their scales. Also
/// returns the tokenizer JSON when the file carries it (the asset does).
pub fn load(bytes: &[u8]) -> Result<(Tensors, Option<String>), MiniLmError> {
    let (_, header) = SafeTensors::read_metadata(bytes)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    // The published file says "pt"; only another layout of ours is refused.
    if let Some(format) = metadata.get(FORMAT_KEY) {
        if format.starts_with("ragtrace-") && format != FORMAT {
            return Err(MiniLmError::Weights(format!(
                "the model file is {format}, this page reads {FORMAT}"
            )));
        }
    }
    let file = SafeTensors::deserialize(bytes)?;
    let mut tensors = Tensors::new();
    for (name, view) in file.tensors() {
        if name.ends_with(".scale") {
            continue;
        }
        let weight = match view.dtype() {
            Dtype::F32 => Weight::F32(Tensor::from_vec(f32s(&view), view.shape(), &Device::Cpu)?),
            Dtype::I8 => {
                let scales = f32s(&file.tensor(&format!("{name}.scale"))?);
                let (rows, cols) = match view.shape() {
                    [rows, cols] if (1..=MAX_INPUTS).contains(cols) => (*rows, *cols),
                    shape => {
                        return Err(MiniLmError::Weights(format!(
                            "{name} has the shape {shape:?}, not int8 rows 1 to {MAX_INPUTS} wide"
                        )))
                    }
                };
                if scales.len() != rows {
                    return Err(MiniLmError::Weights(format!(
                        "{name} has {rows} rows but {} scales",
                        scales.len()
                    )));
                }
                Weight::Int8(Int8Rows {
                    rows,
                    cols,
                    values: view.data().iter().map(|q| i16::from(*q as i8)).collect(),
                    scales,
                })
            }
            _ => continue,
        };
        tensors.insert(name, weight);
    }
    Ok((tensors, metadata.get(TOKENIZER_KEY).cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A published-style file holding one `rows × cols` matrix.
    fn f32_file(rows: usize, cols: usize) -> Vec<u8> {
        let bytes: Vec<u8> = (0..rows * cols)
            .flat_map(|i| (i as f32 / 100.0).to_le_bytes())
            .collect();
        let view = TensorView::new(Dtype::F32, vec![rows, cols], &bytes).unwrap();
        safetensors::serialize([("m".to_string(), view)], None).unwrap()
    }

    #[test]
    fn the_asset_keeps_int8_rows_and_refuses_rows_too_wide_to_sum() {
        let (tensors, tokenizer) = load(&quantize(&f32_file(2, 3), "{}").unwrap()).unwrap();
        assert_eq!(tokenizer.as_deref(), Some("{}"));
        assert!(matches!(&tensors["m"], Weight::Int8(m) if (m.rows, m.cols) == (2, 3)));
        let Err(MiniLmError::Weights(why)) =
            load(&quantize(&f32_file(1, MAX_INPUTS + 1), "{}").unwrap())
        else {
            panic!("a row of {} inputs loaded", MAX_INPUTS + 1);
        };
        assert!(why.contains("not int8 rows 1 to 2048 wide"), "{why}");
    }
}
