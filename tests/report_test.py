"""Tests of tools/report.py: tables from run records, and RESULTS.md from the committed ones."""

import os
import re

from tools import records, report


def _record(fake_workdir, tmp_path, name, *args, **kwargs):
    workdir = fake_workdir(str(tmp_path / "runs"), name, *args, **kwargs)
    records.write(*records.from_workdir(workdir, name), str(tmp_path / "records"))


def test_only_recorded_runs_give_numbers(tmp_path, fake_workdir):
    _record(fake_workdir, tmp_path, "mnist_vamp_l40", 500, ll=-85.25)
    _record(fake_workdir, tmp_path, "mnist_vamp_l40_r2", 700, ll=-84.5, stopped_early=True)  # its full-protocol rerun
    _record(fake_workdir, tmp_path, "frey_vamp_l40", 804, ll=-1767.6, bits=4.5539, stopped_early=True)
    _record(fake_workdir, tmp_path, "frey_standard_l40", 700, ll=-1800.0, bits=4.6321, stopped_early=True)
    runs, _, text = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))
    assert "| latent 40 | — | 89.70 | 85.25 | 89.02 | — | 84.50 / 82.38 | not run / 500 (budget) |" in text
    assert ("| latent 40 | 4.632 | 4.620 | 4.554 | 4.532 | -0.083 ± 0.000 | 4.63 / 4.57 | 700 (early stop) / "
            "804 (early stop) |") in text
    # The standard prior has no K: its K rows show the latent-40 standard run.
    assert "| hidden 300, K 1000 | 4.632 | 4.617 | — | 4.532 | — | 700 (early stop) / not run |" in text
    assert "| z 30 | 19 / 500 (16.8), 3.8% | 804 (early stop) | 804 | float32 | 1.00 h | 1.0 min | abc123, def456 |" in text
    assert "| mnist_standard_l40 | — | — | — | — | — | — | — | not run | — | — | — | — | — |" in text
    assert "Recovered records" not in text
    block = report.readme_block(runs, {})
    # the paper's cell reads the rerun, which shares the first run's outside quotations
    assert "| MNIST (dynamic), VAE, latent 40 [nats] | — | 84.50 | 89.70 / 89.02 | 84.50 / 82.38 |" in block
    assert "| Frey Faces (ours, ours - paper) | 4.632 (+0.002) / 4.554 (-0.016) |" in text


def test_the_papers_table_is_quoted_once_and_every_paper_cell_comes_from_it():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    assert text.count("### The paper's table") == 1 and text.count(report.PAPER_SOURCE) == 1
    assert report.PAPER_TABLE["dynamic MNIST"]["VAE"] == (84.50, 82.38)  # was mistyped 82.40 before issue 26
    assert report.PAPER_TABLE["Caltech 101 Silhouettes"]["PixelHVAE"] == (85.51, 86.22)
    # A cell run other than by our default recipe says so under the table.
    assert report.PAPER_CELLS[("Frey Faces", "PixelHVAE")] == ("frey_pixelhvae_standard_codeinit",
                                                               "frey_pixelhvae_vamp_codeinit")
    assert "\n\n" + report.PAPER_CELLS_NOTE + "\n\n" in text
    for (dataset, model), (std, vamp) in report.PAPER_CELLS.items():
        assert report.PAPER[std] == report.PAPER_TABLE[dataset][model][0]
        assert report.PAPER[vamp] == report.PAPER_TABLE[dataset][model][1]
    # Every "paper (std / vamp)" cell of every table (two numbers of two decimals, the paper's form;
    # pairs of epochs are integers) is a pair of the paper's numbers.
    quoted = {f"{a:.2f} / {b:.2f}" for cells in report.PAPER_TABLE.values() for a, b in cells.values()}
    for line in text.splitlines():
        if line.startswith("| ") and "paper (std / vamp)" not in line and line.count("|") >= 9:
            for cell in (c.strip() for c in line.split("|")):
                if re.fullmatch(r"(\d+\.\d\d|—) / (\d+\.\d\d|—)", cell):
                    assert cell in quoted or "—" in cell, (cell, line)


def test_a_recovered_record_shows_the_errors_it_carries(tmp_path, fake_workdir):
    _record(fake_workdir, tmp_path, "mnist_standard_l10", 200, ll=-91.44)
    path = os.path.join(tmp_path, "records", "mnist_vamp_l10.json")
    _record(fake_workdir, tmp_path, "mnist_vamp_l10", 200, ll=-89.54)
    rec = records.load("mnist_vamp_l10", str(tmp_path / "records"))[0]
    rec.update(per_image_log_likelihoods=None, recovered={
        "from": "RESULTS.md at commit 0123abc", "standard_errors": {"nats": 0.28},
        "paired_differences": {"mnist_standard_l10": [-1.9, 0.04]}})
    os.remove(path.replace(".json", ".npy"))
    records.write(rec, None, str(tmp_path / "records"))
    _, _, text = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))
    # Against a newer (non-recovered) record of the other run, the recovered difference does not apply.
    assert "| latent 10 | 91.44 | 93.92 | 89.54 | 92.30 | — |" in text
    standard = records.load("mnist_standard_l10", str(tmp_path / "records"))[0]
    standard.update(per_image_log_likelihoods=None, recovered={"from": "RESULTS.md at commit 0123abc",
                                                               "standard_errors": {"nats": 0.3}})
    os.remove(os.path.join(tmp_path, "records", "mnist_standard_l10.npy"))
    records.write(standard, None, str(tmp_path / "records"))
    _, _, text = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))
    assert "| latent 10 | 91.44 | 93.92 | 89.54 | 92.30 | -1.90 ± 0.04 |" in text
    assert "| mnist_vamp_l10 | 89.54 ± 0.28 |" in text
    assert "the workdirs of 2 runs were lost" in text and "recovered from RESULTS.md at commit 0123abc" in text


def test_results_md_and_the_readme_block_regenerate_from_the_committed_records():
    """RESULTS.md is generated, never edited: the committed records give it back byte for byte."""
    runs, figures, text = report.build(records.RECORDS, records.FIGURES)
    with open(os.path.join(report.REPO, "RESULTS.md")) as f:
        assert f.read() == text + "\n", "RESULTS.md is stale: run python -m tools.report"
    with open(os.path.join(report.REPO, "README.md")) as f:
        block = re.search(r"<!-- results:begin[^>]*-->\n(.*?)\n<!-- results:end -->", f.read(), re.S).group(1)
    assert block == report.readme_block(runs, figures)
    from tools import report_presets
    with open(os.path.join(report.REPO, "README.md")) as f:
        presets = re.search(r"<!-- presets:begin[^>]*-->\n(.*?)\n<!-- presets:end -->", f.read(), re.S).group(1)
    assert presets == "\n".join(report_presets.rows(runs, report.PAPER, report._paired_difference,
                                                    report.TABLES["presets"]))
    from tools import report_docs
    for page, text in report_docs.render_all(report.docs_context(runs), write=False).items():
        assert open(os.path.join(report.REPO, page)).read() == text, f"{page} is stale: run python -m tools.report"
    for path in figures.values():
        assert os.path.isfile(os.path.join(report.REPO, path)), path


def test_a_run_scored_under_the_codes_clamp_says_so_in_its_row():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    every_run = text[text.index("### Every run"):]
    row = [line for line in every_run.splitlines() if line.startswith("| caltech101_standard_clamp |")][0]
    assert "| 130.93 ± 1.27 (clamp 1e-05) |" in row
    exact = [line for line in every_run.splitlines() if line.startswith("| caltech101_standard |")][0]
    assert "clamp" not in exact


def test_score_notes_name_the_clamp_for_both_likelihoods():
    from vamp_tf import config, results
    exact = config.Config(config.ModelConfig(), config.TrainConfig())
    assert results.score_notes(exact) == []
    binary = config.Config(config.ModelConfig(probability_clamp=1e-5), config.TrainConfig())
    assert "--probability_clamp=1e-05" in results.score_notes(binary)[0] and "[c, 1 - c]" in results.score_notes(binary)[0]
    gray = config.Config(config.ModelConfig(likelihood="discretized_logistic", probability_clamp=1e-7),
                         config.TrainConfig(dataset="frey_faces"))
    assert "P + c" in results.score_notes(gray)[0]


def test_the_rate_distortion_tables_come_from_the_records_that_carry_them(tmp_path, fake_workdir):
    _record(fake_workdir, tmp_path, "mnist_vamp_l40", 500, ll=-85.25)
    _record(fake_workdir, tmp_path, "mnist_vamp_l40_r2", 700, ll=-84.5, stopped_early=True)  # its full-protocol rerun
    runs, _, text = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))
    assert "No recorded run carries these figures yet" in text
    run = runs["mnist_vamp_l40"]
    run.results["metrics"]["rate_distortion"] = {
        "neg_elbo": [88.0, 0.3], "distortion": [60.0, 0.2], "rate": [28.0, 0.1], "rate_prior_latent": [28.0, 0.1],
        "mutual_information": [9.0, 0.01], "marginal_kl": [19.0, 0.1], "num_images": 10000, "log_num_images": 9.21}
    lines = report.rate_distortion_tables(runs)
    row = [line for line in lines if line.startswith("| mnist_vamp_l40 |")][0]
    assert row.endswith("| 88.00 ± 0.30 | 60.00 ± 0.20 | 28.00 ± 0.10 | 28.00 ± 0.10 | 9.00 ± 0.01 | 19.00 ± 0.10 |")
    assert not any(line.startswith("KL(q(z) || p(z)) of the VampPrior") for line in lines)  # no pair yet


def test_the_marginal_kls_are_compared_at_equal_beta(tmp_path, fake_workdir):
    for name, prior_kl in (("mnist_vamp_l40_beta1", 2.0), ("mnist_standard_l40_beta1", 8.0),
                           ("mnist_vamp_l40_beta4", 1.0)):
        _record(fake_workdir, tmp_path, name, 100, ll=-90.0)
    runs, _, _ = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))
    for name, (prior, beta, kl) in {"mnist_vamp_l40_beta1": ("vamp", 1.0, 2.0),
                                    "mnist_standard_l40_beta1": ("standard", 1.0, 8.0),
                                    "mnist_vamp_l40_beta4": ("vamp", 4.0, 1.0)}.items():
        results = runs[name].results
        results["config"]["model"].update(prior=prior, model="vae", latent_dim=40)
        results["config"]["train"]["beta"] = beta
        results["metrics"]["rate_distortion"] = {key: [kl if key == "marginal_kl" else 50.0, 0.1] for key, _ in
                                                 report.RD_COLUMNS}
    lines = report.rate_distortion_tables(runs)
    rows = [line.split(" | ")[0][2:] for line in lines if line.startswith("| mnist_")]
    assert rows == ["mnist_standard_l40_beta1", "mnist_vamp_l40_beta1", "mnist_vamp_l40_beta4"]  # prior, then beta
    assert "KL(q(z) || p(z)) of the VampPrior / of the standard prior, between runs that differ only in the prior: " \
           "mnist_vamp_l40_beta1 / mnist_standard_l40_beta1 (vae, latent 40, beta 1): 2.00 / 8.00 = 0.25." in lines
    # A standard run with another seed, in bfloat16 or scored on fewer test images, and a VampPrior run with
    # another budget, are no one's twins (configs set below); one that read its data elsewhere is.
    others = {"mnist_standard_l10_seed1": {"seed": 1}, "mnist_vamp_l40_e20": {"epochs": 20},
              "mnist_standard_l40": {"precision": "mixed_bfloat16"}, "mnist_standard_l40_beta0p5": {"test_examples": 100},
              "mnist_standard_l40_beta2": {"data_dir": "/elsewhere", "eval_batch_size": 7}}  # (beta set to 1 below)
    for name in others:
        _record(fake_workdir, tmp_path, name, 100, ll=-90.0)
    rebuilt = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))[0]
    runs.update({name: rebuilt[name] for name in others})
    for name, change in others.items():
        results = runs[name].results
        results["config"]["model"].update(prior="standard" if "standard" in name else "vamp", model="vae", latent_dim=40)
        results["config"]["train"].update(beta=1.0, **change)
        results["metrics"]["rate_distortion"] = {key: [4.0 if key == "marginal_kl" else 50.0, 0.1] for key, _ in
                                                 report.RD_COLUMNS}
    ratios = [line for line in report.rate_distortion_tables(runs) if line.startswith("KL(q(z) || p(z))")]
    assert ratios == ["KL(q(z) || p(z)) of the VampPrior / of the standard prior, between runs that differ only in the "
                      "prior: mnist_vamp_l40_beta1 / mnist_standard_l40_beta1 (vae, latent 40, beta 1): 2.00 / 8.00 = 0.25; "
                      "mnist_vamp_l40_beta1 / mnist_standard_l40_beta2 (vae, latent 40, beta 1): 2.00 / 4.00 = 0.50."]
    for name in others:
        del runs[name]
    assert not any("at its ceiling" in line for line in lines)
    runs["mnist_vamp_l40_beta4"].results["metrics"]["rate_distortion"].update(
        mutual_information=[9.20, 0.0], num_images=10000, log_num_images=9.2103)
    lines = report.rate_distortion_tables(runs)
    assert any(line.startswith("I[n; z] is at its ceiling log N in 1 of 3 runs") for line in lines)


def test_exemplar_vaes_table_stands_beside_ours_cell_by_cell(tmp_path, fake_workdir):
    # Its numbers are quoted once, as its repository's table shows them (images/density_estimation.png); the
    # rows below check that each lands in its own cell, beside our run of the same model, with the right sign.
    _record(fake_workdir, tmp_path, "fashion_mnist_standard", 300, ll=-229.0, stopped_early=True, images=10)
    _record(fake_workdir, tmp_path, "fashion_mnist_vamp", 400, ll=-227.0, stopped_early=True, images=10)
    runs, _, text = report.build(str(tmp_path / "records"), str(tmp_path / "figures"))
    assert text.count("### Beside Exemplar VAE's table") == 1 and text.count(report.EXEMPLAR["source"]) == 1
    assert ("| Fashion-MNIST, VAE | 228.70 ± 0.15 | 227.35 ± 0.05 | 229.00 (+0.30) | 227.00 (-0.35) | -2.00 ± 0.00 | "
            "-1.35 | 300 (early stop) / 400 (early stop) |") in text
    assert "| Fashion-MNIST, HVAE | 227.37 ± 0.10 | 226.72 ± 0.08 | — | — | — | -0.65 | not run / not run |" in text
    block = report.readme_block(runs, {})
    assert ("| Fashion-MNIST (dynamic), VAE, latent 40 [nats] | 229.00 | 227.00 | — / — | — / — | 228.70 / 227.35 | "
            "300 (early stop) / 400 (early stop) |") in block


def test_a_rerun_and_its_first_run_share_their_outside_quotations():
    from tools import report_runs
    paper, exemplar = {"first": 82.38}, {"rerun_b": (81.56, 0.09)}
    report_runs.share_quotations({"rerun_a": {"reruns": "first"}, "rerun_b": {"reruns": "first_b"}}, paper, exemplar)
    assert paper == {"first": 82.38, "rerun_a": 82.38}  # the rerun is quoted as its first run is
    assert exemplar == {"rerun_b": (81.56, 0.09), "first_b": (81.56, 0.09)}  # and the other way round
    assert report_runs.PAPER["mnist_vamp_l40_r2"] == report_runs.PAPER["mnist_vamp_l40"]  # the shipped tables do it
