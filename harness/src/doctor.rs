//! TODO(owner): doctor
