//! TODO(owner): wait
