# Cross-check of bench/study_pwas.sh: pwas's BETA/SE against the peers' on the same proteins.
#
#   Rscript bench/compare_fits.R --pwas DIR --pwas-linear DIR --peers FILE... --plink DIR --out CSV
#
# --peers: *.fits.tsv from r_glm_loop.R (R_glm, R_lm, limma). --plink: the folder of study_pwas.sh's PLINK 2 runs
# (<model>_<exposure>.Y.glm.logistic, linear.<protein>.glm.linear); PLINK estimates are per dosage unit and for
# its A1 allele, so BETA_RIN = +-BETA/5 and SE_RIN = SE/5 (dosage = 1 + RIN/5 for the allele P; isolation = allele E).
# One CSV row per peer and analysis: fits compared (both OK), status disagreements (one OK, the other not),
# OBS_CT disagreements, max and median |relative difference| of BETA and SE, max |BETA difference| / SE.
args <- commandArgs(trailingOnly = TRUE)
multi <- function(name) {
  i <- match(name, args)
  if (is.na(i)) return(character())
  j <- i + 1
  while (j <= length(args) && !startsWith(args[j], "--")) j <- j + 1
  if (j == i + 1) character() else args[(i + 1):(j - 1)]
}
one <- function(name) multi(name)[1]

read_tsv <- function(f) read.delim(f, stringsAsFactors = FALSE, quote = "", na.strings = c("NA", "", "nan"))
pwas <- do.call(rbind, lapply(c(Sys.glob(file.path(one("--pwas"), "*.tsv")),
                                Sys.glob(file.path(one("--pwas-linear"), "*.tsv"))), read_tsv))
# key: analysis|exposure|protein (the exposure is the outcome of the logistic scans, the predictor of the linear one)
pwas$key <- paste(pwas$ANALYSIS, ifelse(pwas$OUTCOME == pwas$PROTEIN, pwas$PREDICTOR, pwas$OUTCOME), pwas$PROTEIN, sep = "|")

peer_rows <- list()
for (f in multi("--peers")) {
  r <- read_tsv(f)
  r$key <- paste(r$analysis, ifelse(r$outcome == r$protein, r$predictor, r$outcome), r$protein, sep = "|")
  peer_rows[[length(peer_rows) + 1]] <- data.frame(peer = r$tool, key = r$key, obs_ct = r$obs_ct, beta = r$beta,
                                                   se = r$se, ok = !is.na(r$beta) & r$converged %in% c(1, NA))
  tight <- !is.na(r$beta_tight)
  if (any(tight))
    peer_rows[[length(peer_rows) + 1]] <- data.frame(peer = paste0(r$tool[tight], "_eps1e-12"), key = r$key[tight],
                                                     obs_ct = r$obs_ct[tight], beta = r$beta_tight[tight],
                                                     se = r$se_tight[tight], ok = TRUE)
}
plink_dir <- one("--plink")
if (!is.na(plink_dir) && dir.exists(plink_dir)) {
  for (f in Sys.glob(file.path(plink_dir, "*.Y.glm.logistic"))) {
    tag <- sub("\\.Y\\.glm\\.logistic$", "", basename(f))
    parts <- strsplit(tag, "_")[[1]]
    r <- read_tsv(f)
    names(r)[1] <- "CHROM"
    sgn <- ifelse(r$A1 == "P", 1, -1)
    peer_rows[[length(peer_rows) + 1]] <- data.frame(peer = "PLINK2_glm", key = paste(parts[1], parts[2], r$ID, sep = "|"),
                                                     obs_ct = r$OBS_CT, beta = sgn * r$BETA / 5, se = r$SE / 5,
                                                     ok = r$ERRCODE == "." & !is.na(r$BETA))
  }
  lin <- Sys.glob(file.path(plink_dir, "linear.*.glm.linear"))
  if (length(lin)) {
    r <- do.call(rbind, lapply(lin, function(f) cbind(read_tsv(f), PROTEIN = sub("^linear\\.(.*)\\.glm\\.linear$", "\\1", basename(f)))))
    sgn <- ifelse(r$A1 == "E", 1, -1)
    peer_rows[[length(peer_rows) + 1]] <- data.frame(peer = "PLINK2_glm", key = paste("linear", "isolation", r$PROTEIN, sep = "|"),
                                                     obs_ct = r$OBS_CT, beta = sgn * r$BETA, se = r$SE,
                                                     ok = r$ERRCODE == "." & !is.na(r$BETA))
  }
}
peers <- do.call(rbind, peer_rows)
m <- merge(peers, pwas[, c("key", "ANALYSIS", "OBS_CT", "BETA", "SE", "ERRCODE")], by = "key")
rel <- function(a, b) abs(a - b) / pmax(abs(a), abs(b))
out <- do.call(rbind, lapply(split(m, list(m$peer, m$ANALYSIS), drop = TRUE), function(g) {
  both <- g$ok & g$ERRCODE == "OK"
  rb <- rel(g$beta[both], g$BETA[both])
  rs <- rel(g$se[both], g$SE[both])
  dz <- abs(g$beta[both] - g$BETA[both]) / g$SE[both]
  worst <- if (any(both)) g$key[both][which.max(rb)] else NA
  mism <- g$key[g$ok != (g$ERRCODE == "OK")]
  data.frame(peer = g$peer[1], analysis = g$ANALYSIS[1], fits = nrow(g), compared = sum(both),
             status_mismatch = length(mism), obs_ct_mismatch = sum(g$obs_ct != g$OBS_CT, na.rm = TRUE),
             max_rel_beta = if (any(both)) max(rb) else NA, median_rel_beta = if (any(both)) median(rb) else NA,
             max_rel_se = if (any(both)) max(rs) else NA, median_rel_se = if (any(both)) median(rs) else NA,
             max_dbeta_over_se = if (any(both)) max(dz) else NA, worst_beta = worst,
             mismatches = if (length(mism)) paste(head(paste0(mism, ":pwas=", g$ERRCODE[g$ok != (g$ERRCODE == "OK")]), 6),
                                                      collapse = " ") else "")
}))
write.csv(out, one("--out"), row.names = FALSE, quote = TRUE)
