//! Workloads 4 and 5: copy one image with a big layer from an OCI layout,
//! cold and warm; copy many small images from one layout.
//!
//! Cold means the registry holds no blob at all: each cold run gets a fresh
//! registry (blobs are stored once per registry, and skopeo's blob-info
//! cache would otherwise mount them from another repository). Warm means
//! the target repository already holds every blob; only the tag is new.

use std::time::Instant;

use regent_tests::images::OciLayout;
use regent_tests::registry::TestRegistry;
use regent_tests::skopeo::Skopeo;

use crate::bench::{Bench, floor_for, start_registry};
use crate::driver::{Tool, alternate};
use crate::floor::{Floor, layout_image};
use crate::report::Row;
use crate::seed::{big_layout, many_layout};
use crate::util::Res;

/// The repository big images go to.
const BIG_REPO: &str = "bench/big";

/// The layouts the copies read, built once.
pub struct Layouts {
    big: OciLayout,
    big_digest: String,
    many: OciLayout,
    many_names: Vec<String>,
    many_digests: Vec<String>,
}

impl Layouts {
    /// Write both layouts (untimed).
    pub fn build(bench: &Bench) -> Res<Self> {
        let big = big_layout(&bench.path("big-layout"), bench.sizes.big_layer)?;
        let big_digest = entry_digest(&big, "big")?;
        let (many, many_names) = many_layout(&bench.path("many-layout"), bench.sizes.many)?;
        let many_digests = many_names
            .iter()
            .map(|n| entry_digest(&many, &format!("{n}:v1")))
            .collect::<Res<Vec<_>>>()?;
        Ok(Self {
            big,
            big_digest,
            many,
            many_names,
            many_digests,
        })
    }
}

fn entry_digest(layout: &OciLayout, ref_name: &str) -> Res<String> {
    let image = layout_image(layout.root(), ref_name, "x", "x")?;
    Ok(regent_tests::images::sha256_digest(&image.manifest))
}

/// `repo:tag` in `registry` must have `digest` now.
fn check(floor: &Floor, repo: &str, tag: &str, digest: &str) -> Res<()> {
    match floor.head(&format!("{repo}/manifests/{tag}"))? {
        (200, Some(got)) if got == digest => Ok(()),
        (200, got) => Err(format!("{repo}:{tag} is {got:?}, expected {digest}")),
        (status, _) => Err(format!(
            "{repo}:{tag} is missing after the copy (HTTP {status})"
        )),
    }
}

/// Copy the big image to `registry` as `BIG_REPO:tag` with `tool`; the time.
fn copy_big(
    bench: &Bench,
    layouts: &Layouts,
    registry: &TestRegistry,
    tool: Tool,
    tag: &str,
) -> Res<std::time::Duration> {
    let dest = format!("{BIG_REPO}:{tag}");
    let regent = bench
        .cli
        .at(&registry.authority(), registry.credentials())?;
    let regent_dest = format!("{}/{dest}", registry.authority());
    let source = layouts.big.reference("big");
    let start = Instant::now();
    match tool {
        Tool::Skopeo => {
            Skopeo::new(registry)
                .try_copy(&source, &registry.docker_ref(&dest), &[])
                .map_err(|e| e.to_string())?;
        }
        Tool::Regent => {
            regent.run(&["copy", &source, &regent_dest])?;
        }
        Tool::Floor => {
            let image = layout_image(layouts.big.root(), "big", BIG_REPO, tag)?;
            floor_for(registry).copy(&[image])?;
        }
    }
    let time = start.elapsed();
    check(&floor_for(registry), BIG_REPO, tag, &layouts.big_digest)?;
    Ok(time)
}

/// The cold and warm rows of the big copy.
pub fn big(bench: &Bench, layouts: &Layouts) -> Res<Vec<Row>> {
    let mib = bench.sizes.big_layer >> 20;
    let cold = alternate(
        "copy big cold",
        bench.sizes.reps,
        &Tool::ALL,
        |tool, rep| {
            let fresh = start_registry();
            copy_big(bench, layouts, &fresh, tool, &format!("cold-{tool}-{rep}"))
        },
    );
    // The warm target: the blobs are in the repository before any run.
    let seeded = layout_image(layouts.big.root(), "big", BIG_REPO, "seed")?;
    bench.floor().copy(&[seeded])?;
    let warm = alternate(
        "copy big warm",
        bench.sizes.reps,
        &Tool::ALL,
        |tool, rep| {
            copy_big(
                bench,
                layouts,
                &bench.registry,
                tool,
                &format!("warm-{tool}-{rep}"),
            )
        },
    );
    Ok(vec![
        Row::new(
            format!("copy 1 image, {mib} MiB layer, cold"),
            cold,
            Some(1.0),
            None,
        ),
        Row::new(
            format!("copy 1 image, {mib} MiB layer, warm"),
            warm,
            Some(2.0),
            None,
        ),
    ])
}

/// N × `skopeo copy` vs one `regent push-all` vs the floor, each run into
/// new repositories `bench/many-TOOL-REP/img-NN`.
pub fn many(bench: &Bench, layouts: &Layouts) -> Res<Row> {
    let regent = bench.regent()?;
    let from = format!("oci:{}", layouts.many.root().display());
    let samples = alternate("copy many", bench.sizes.reps, &Tool::ALL, |tool, rep| {
        let prefix = format!("bench/many-{tool}-{rep}");
        let start = Instant::now();
        match tool {
            Tool::Skopeo => {
                let skopeo = bench.skopeo();
                for name in &layouts.many_names {
                    skopeo
                        .try_copy(
                            &layouts.many.reference(&format!("{name}:v1")),
                            &bench.registry.docker_ref(&format!("{prefix}/{name}:v1")),
                            &[],
                        )
                        .map_err(|e| e.to_string())?;
                }
            }
            Tool::Regent => {
                regent.run(&["push-all", "--from", &from, "--to", &regent.repo(&prefix)])?;
            }
            Tool::Floor => {
                let images = layouts
                    .many_names
                    .iter()
                    .map(|n| {
                        layout_image(
                            layouts.many.root(),
                            &format!("{n}:v1"),
                            &format!("{prefix}/{n}"),
                            "v1",
                        )
                    })
                    .collect::<Res<Vec<_>>>()?;
                bench.floor().copy(&images)?;
            }
        }
        let time = start.elapsed();
        let floor = bench.floor();
        for (name, digest) in layouts.many_names.iter().zip(&layouts.many_digests) {
            check(&floor, &format!("{prefix}/{name}"), "v1", digest)?;
        }
        Ok(time)
    });
    Ok(Row::new(
        format!("copy {} images", bench.sizes.many),
        samples,
        Some(5.0),
        Some(1.3),
    ))
}
