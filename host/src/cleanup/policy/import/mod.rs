//! Other registries' retention rules turned into a regent policy.
