//! TODO(owner): kube
