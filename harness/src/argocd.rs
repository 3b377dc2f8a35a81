//! TODO(owner): argocd
