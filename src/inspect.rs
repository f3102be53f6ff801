//! What a model holds: the summary behind `bitmoe info`. Counts tensors and bytes by
//! quant type, by role (attention, routed experts, …) and by layer, reads the
//! hyper-parameters and tokenizer facts, and lists tensors. Reads only the header:
//! no tensor data is touched.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::gguf::{GgufFile, TensorInfo};
use crate::schema::{block_of, role_of, Hparams, TensorRole, TokenizerKey};

#[derive(Debug, Serialize)]
pub struct FileSummary {
    pub path: PathBuf,
    pub version: u32,
    pub file_bytes: u64,
    pub alignment: u64,
    pub data_start: u64,
    /// Bytes from the data section's start to the end of the file.
    pub data_section_bytes: u64,
    pub tensors: usize,
    /// Sum of tensor sizes without padding.
    pub tensor_bytes: u64,
}

#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct Tally {
    pub tensors: usize,
    pub bytes: u64,
    pub elements: u64,
}

impl Tally {
    fn add(&mut self, t: &TensorInfo) {
        self.tensors += 1;
        self.bytes += t.n_bytes;
        self.elements += t.n_elements();
    }
}

#[derive(Debug, Serialize)]
pub struct TokenizerSummary {
    pub model: Option<String>,
    pub pre: Option<String>,
    pub vocab_size: Option<usize>,
    pub merges: Option<usize>,
    pub bos_token_id: Option<u64>,
    pub eos_token_id: Option<u64>,
    pub has_chat_template: bool,
}

/// What has to be in RAM and what one token reads: the first question for a model
/// bigger than the machine.
#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct Footprint {
    /// Everything but the routed experts: touched every token, kept resident.
    pub resident_bytes: u64,
    /// Routed experts: paged through the expert cache.
    pub routed_expert_bytes: u64,
    /// Weight bytes one decoded token reads: resident weights (one embedding row unless
    /// the output head is tied to the embeddings) plus `used / count` of the experts.
    pub touched_per_token_bytes: u64,
}

impl Footprint {
    /// From byte tallies by role (of a file, or of a quantization plan).
    pub fn of(
        by_role: &BTreeMap<TensorRole, Tally>,
        total: u64,
        hparams: Option<&Hparams>,
    ) -> Footprint {
        let bytes = |r: TensorRole| by_role.get(&r).map_or(0, |t| t.bytes);
        let routed = bytes(TensorRole::RoutedExperts);
        let embeddings = bytes(TensorRole::Embeddings);
        let tied = !by_role.contains_key(&TensorRole::Output);
        let vocab = hparams.map_or(0, |h| u64::from(h.common.vocab_size));
        let embedding_row = if tied || vocab == 0 {
            embeddings
        } else {
            embeddings / vocab
        };
        let experts_used = hparams
            .and_then(|h| h.deepseek2.as_ref())
            .filter(|d| d.expert_count > 0)
            .map_or(0, |d| {
                (u128::from(routed) * u128::from(d.expert_used_count) / u128::from(d.expert_count))
                    as u64
            });
        Footprint {
            resident_bytes: total - routed,
            routed_expert_bytes: routed,
            touched_per_token_bytes: total - routed - embeddings + embedding_row + experts_used,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TensorRow {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub shape: Vec<u64>,
    pub bytes: u64,
    pub role: TensorRole,
    pub file: usize,
}

#[derive(Debug, Serialize)]
pub struct ModelSummary {
    pub name: Option<String>,
    pub architecture: Option<String>,
    /// The typed hyper-parameters, or why they could not be read.
    pub hparams: Result<Hparams, String>,
    pub files: Vec<FileSummary>,
    pub metadata_keys: usize,
    pub total: Tally,
    pub by_type: BTreeMap<&'static str, Tally>,
    pub by_role: BTreeMap<TensorRole, Tally>,
    /// Per `blk.N`; tensors outside blocks are in `global`.
    pub by_layer: BTreeMap<usize, Tally>,
    pub global: Tally,
    pub tokenizer: TokenizerSummary,
    pub footprint: Footprint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors: Option<Vec<TensorRow>>,
}

impl ModelSummary {
    pub fn of(file: &GgufFile, list_tensors: bool) -> ModelSummary {
        let md = file.metadata();
        let mut total = Tally::default();
        let mut by_type: BTreeMap<&'static str, Tally> = BTreeMap::new();
        let mut by_role: BTreeMap<TensorRole, Tally> = BTreeMap::new();
        let mut by_layer: BTreeMap<usize, Tally> = BTreeMap::new();
        let mut global = Tally::default();
        for t in file.tensors() {
            total.add(t);
            by_type.entry(t.ty.name()).or_default().add(t);
            by_role.entry(role_of(&t.name)).or_default().add(t);
            match block_of(&t.name) {
                Some(layer) => by_layer.entry(layer).or_default().add(t),
                None => global.add(t),
            }
        }
        let files = file
            .parts()
            .iter()
            .map(|p| FileSummary {
                path: p.path().to_path_buf(),
                version: p.version,
                file_bytes: p.file_size(),
                alignment: p.alignment,
                data_start: p.data_start,
                data_section_bytes: p.data_section_bytes(),
                tensors: p.n_tensors,
                tensor_bytes: p.tensor_bytes,
            })
            .collect();
        let str_key = |k: &str| md.get_str(k).ok().flatten().map(str::to_owned);
        let arr_len = |k: TokenizerKey| md.get_array(k.name()).ok().flatten().map(|a| a.len());
        let tokenizer = TokenizerSummary {
            model: str_key(TokenizerKey::Model.name()),
            pre: str_key(TokenizerKey::Pre.name()),
            vocab_size: arr_len(TokenizerKey::Tokens),
            merges: arr_len(TokenizerKey::Merges),
            bos_token_id: md.get_u64(TokenizerKey::BosId.name()).ok().flatten(),
            eos_token_id: md.get_u64(TokenizerKey::EosId.name()).ok().flatten(),
            has_chat_template: md.contains(TokenizerKey::ChatTemplate.name()),
        };
        let tensors = list_tensors.then(|| {
            file.tensors()
                .iter()
                .map(|t| TensorRow {
                    name: t.name.clone(),
                    ty: t.ty.name(),
                    shape: t.dims.clone(),
                    bytes: t.n_bytes,
                    role: role_of(&t.name),
                    file: t.part,
                })
                .collect()
        });
        let hparams = Hparams::from_metadata(md).map_err(|e| e.to_string());
        let footprint = Footprint::of(&by_role, total.bytes, hparams.as_ref().ok());
        ModelSummary {
            name: str_key(crate::schema::GeneralKey::Name.name()),
            architecture: str_key(crate::schema::GeneralKey::Architecture.name()),
            hparams,
            files,
            metadata_keys: md.len(),
            total,
            by_type,
            by_role,
            by_layer,
            global,
            tokenizer,
            footprint,
            tensors,
        }
    }
}
