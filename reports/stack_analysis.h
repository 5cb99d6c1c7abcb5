// Allocation stacks of a run directory: from the tracker's artifacts to leak suspects ranked by
// growth per run, per strategy.
#pragma once

#include "harness/artifacts.h"
#include "harness/run_manifest.h"
#include "reports/report_model.h"

namespace memsoak::reports {

// At most this many suspects per strategy, the fastest-growing first.
inline constexpr std::size_t kMaxSuspectsPerStrategy = 20;

// Reads the "stacks" and "runleak" artifacts of every entry, symbolizes them, and fills
// report.leak_suspects, report.stacks_sampled and each strategy's sampling fields.
//
// A process that serves many runs (in-process, a recycled worker) wrote the estimated live bytes
// of each stack every few runs (an epoch); a stack's growth is the Theil–Sen slope over the
// epochs after warm-up, with its interval, and it is a suspect when the interval is above zero
// and the slope over the last third is significantly positive too, at least half the whole
// slope (a cache that filled and then only churns is not a suspect).
// A one-run process wrote what its run left live; a stack's growth is the mean over the
// strategy's analysed runs, with a normal interval, and it is a suspect when that interval is
// above zero. Throws InputError for a malformed artifact.
void analyse_stacks(const harness::RunManifest& manifest, const harness::ArtifactListing& artifacts,
                    Report& report);

}  // namespace memsoak::reports
