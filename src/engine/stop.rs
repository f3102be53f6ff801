//! Stop strings over streamed text: text is released only once it can no longer be the
//! start of a stop string, so a stop string is never half-printed.

/// Watches generated text for stop strings.
#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    /// Text generated but not yet released.
    pending: String,
}

/// What one push produced.
#[derive(Debug, PartialEq, Eq)]
pub enum StopEvent {
    /// Text safe to print; generation goes on.
    Continue(String),
    /// A stop string was found: the text before it, then stop.
    Stop(String),
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> StopMatcher {
        StopMatcher {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            pending: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> StopEvent {
        self.pending.push_str(text);
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()))
            .min()
        {
            let before = self.pending[..at].to_string();
            self.pending.clear();
            return StopEvent::Stop(before);
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        let mut hold = 0;
        for s in &self.stops {
            for (i, _) in s.char_indices().skip(1) {
                if self.pending.ends_with(&s[..i]) {
                    hold = hold.max(i);
                }
            }
        }
        let cut = self.pending.len() - hold;
        let out = self.pending[..cut].to_string();
        self.pending.drain(..cut);
        StopEvent::Continue(out)
    }

    /// Whatever is still held back (at the end of generation).
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_back_partial_matches_and_stops() {
        let mut m = StopMatcher::new(&["</s>".to_string(), "User:".to_string()]);
        assert_eq!(m.push("Hello <"), StopEvent::Continue("Hello ".into()));
        assert_eq!(m.push("b> wor"), StopEvent::Continue("<b> wor".into()));
        assert_eq!(m.push("ld</"), StopEvent::Continue("ld".into()));
        assert_eq!(m.push("s> more"), StopEvent::Stop("".into()));
        let mut m = StopMatcher::new(&["User:".to_string()]);
        assert_eq!(m.push("a Us"), StopEvent::Continue("a ".into()));
        assert_eq!(m.flush(), "Us");
    }
}
