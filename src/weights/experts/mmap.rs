//! Experts read straight from the mapped file: the OS pages them in on first touch and
//! evicts them under memory pressure. The baseline the expert cache must beat
//! (`--experts mmap`), and the right choice when the whole model fits in RAM.

use super::{moe_layer, ExpertError, ExpertMats, ExpertSource, ExpertTensors};
use crate::weights::Weights;

#[derive(Debug)]
pub struct MmapExperts {
    /// Per layer; `None` for dense layers.
    layers: Vec<Option<ExpertTensors>>,
}

impl MmapExperts {
    pub fn new(layers: Vec<Option<ExpertTensors>>) -> MmapExperts {
        MmapExperts { layers }
    }
}

impl ExpertSource for MmapExperts {
    fn with_expert(
        &self,
        weights: &Weights,
        layer: usize,
        expert: usize,
        f: &mut dyn FnMut(ExpertMats<'_>),
    ) -> Result<(), ExpertError> {
        let t = moe_layer(&self.layers, |t| t.n_expert, layer, expert)?;
        f(t.mapped(weights, expert));
        Ok(())
    }
}
