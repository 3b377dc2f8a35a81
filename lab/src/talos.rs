//! TODO(owner): talos
