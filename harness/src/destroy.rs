//! TODO(owner): destroy
