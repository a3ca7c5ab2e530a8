# The R peers of bench/study_pwas.sh: what a user would otherwise run for the study's PWAS.
#
#   Rscript bench/r_glm_loop.R MODE --data DIR --participants CSV [--proteins FILE] [--warm K] --out PREFIX
#
# DIR holds the cohort exported by study_pwas.sh with h5dump (so R sees exactly the samples and values pwas
# sees): npx.f32 (float32, C order [n_samples, n_proteins], NaN = missing), eid.i64, names.txt.
# MODE:
#   glm    the study's way, one protein at a time: complete cases (covariates, exposure, that protein), RIN of the
#          protein within them (Blom, ties averaged), glm(exposure ~ protein + covariates, binomial); for both
#          exposures x both covariate models, on the proteins listed in --proteins. Then, untimed, the first
#          --warm proteins again from pwas's start (covariates-only fit, 0 for the protein) with pwas's
#          tolerance (1e-12), to estimate the IRLS iterations pwas needs (pwas does not report them); these
#          tight fits' BETA/SE (beta_tight, se_tight) are the cross-check against pwas, since glm's default
#          epsilon 1e-8 leaves ~1e-5 relative error in SE.
#   lm     protein ~ isolation + full covariates the same way (RIN of the protein within complete cases), lm().
#   limma  the same linear direction for every protein at once: RIN per protein within the analysis samples,
#          then limma::lmFit on the protein x sample matrix with NAs (lmFit drops a protein's NA samples itself).
#   plink  writes PLINK 2 inputs (not timed by study_pwas.sh): per exposure x model, the analysis samples' .psam,
#          phenotype and covariate files (categorical covariates as 0/1 dummies against the first level) and the
#          protein dosages as float32 [protein, sample] (dosage = 1 + RIN/5, NaN = missing) for f32_to_plink;
#          for the linear direction, the RIN proteins as float64 [protein, sample] and isolation as a 0/1 dosage
#          variant (alleles E = exposed, N).
# Output: PREFIX.fits.tsv (one row per fit) and PREFIX.timing.tsv (load / loop seconds, fits).
suppressPackageStartupMessages(library(stats))
invisible(Sys.setlocale("LC_COLLATE", "C"))  # factor levels in byte order, as pwas

args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]
opt <- function(name, default = NULL) {
  i <- match(name, args)
  if (is.na(i)) default else args[i + 1]
}
data_dir <- opt("--data")
out <- opt("--out")
warm_k <- as.integer(opt("--warm", "0"))

# The covariate sets of configs/study_pwas.toml.
simple <- c("age", "sex", "centre", "olink_batch", "time_gap_days", paste0("pc", 1:20))
full <- c(simple, "ethnicity", "education", "income", "smoking", "alcohol", "bmi")
categorical <- c("centre", "olink_batch")  # numeric codes dummy-coded; string columns are factors anyway
models <- list(simple = simple, full = full)
exposures <- c("isolation", "loneliness")

t_load <- proc.time()[["elapsed"]]
names_all <- readLines(file.path(data_dir, "names.txt"))
eid <- readBin(file.path(data_dir, "eid.i64"), what = "integer", size = 8, n = 1e8)
n <- length(eid)
p_all <- length(names_all)
# C order [n, p] read column-major as [p, n]: row j is protein j.
npx <- matrix(readBin(file.path(data_dir, "npx.f32"), what = "numeric", size = 4, n = n * p_all), nrow = p_all)
rownames(npx) <- names_all
part <- read.csv(opt("--participants"), stringsAsFactors = FALSE, na.strings = c("", "NA", "NaN"))
part <- part[match(eid, part$eid), ]
stopifnot(!anyNA(part$eid))
# pwas import's missing codes: -1 and -3 are missing in integer-valued numeric columns.
for (v in names(part)) {
  x <- part[[v]]
  if (is.numeric(x) && all(is.na(x) | x == round(x))) part[[v]][x %in% c(-1, -3)] <- NA
}
for (v in names(part)) if (is.character(part[[v]])) part[[v]] <- factor(part[[v]])
for (v in categorical) part[[v]] <- factor(part[[v]])
t_load <- proc.time()[["elapsed"]] - t_load

rin <- function(x) qnorm((rank(x) - 3 / 8) / (length(x) + 1 / 4))
proteins <- if (is.null(opt("--proteins"))) names_all else readLines(opt("--proteins"))
stopifnot(all(proteins %in% names_all))

fits <- list()
add_fit <- function(...) fits[[length(fits) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
timing <- data.frame(mode = character(), step = character(), seconds = numeric(), fits = integer())
add_time <- function(step, seconds, nfit) timing[nrow(timing) + 1, ] <<- list(mode, step, seconds, nfit)
add_time("load", t_load, 0L)

if (mode == "glm") {
  loop_s <- 0
  nfit <- 0L
  for (m in names(models)) {
    covs <- models[[m]]
    rhs <- paste(c("protein", covs), collapse = " + ")
    for (y in exposures) {
      f <- as.formula(paste(y, "~", rhs))
      d0 <- part[, c(y, covs)]
      cc0 <- complete.cases(d0)
      t0 <- proc.time()[["elapsed"]]
      res <- lapply(proteins, function(pr) {
        x <- npx[pr, ]
        keep <- cc0 & !is.na(x)
        d <- d0[keep, ]
        d$protein <- rin(x[keep])
        fit <- suppressWarnings(glm(f, family = binomial, data = d))
        s <- coef(summary(fit))
        if (!"protein" %in% rownames(s)) return(c(nrow(d), sum(d[[y]] == 1), NA, NA, NA, fit$iter, fit$converged))
        c(nrow(d), sum(d[[y]] == 1), s["protein", 1:2], s["protein", 4], fit$iter, fit$converged)
      })
      dt <- proc.time()[["elapsed"]] - t0
      add_time(paste("loop", m, y, sep = "_"), dt, length(proteins))
      loop_s <- loop_s + dt
      nfit <- nfit + length(proteins)
      # Untimed: pwas's start (covariates-only fit on the analysis samples, 0 for the protein) and tolerance.
      null <- if (warm_k > 0) coef(glm(as.formula(paste(y, "~", paste(covs, collapse = " + "))), family = binomial,
                                       data = d0[cc0, ])) else NULL
      for (i in seq_along(proteins)) {
        r <- res[[i]]
        iter_warm <- beta_tight <- se_tight <- NA
        if (i <= warm_k) {
          x <- npx[proteins[i], ]
          keep <- cc0 & !is.na(x)
          d <- d0[keep, ]
          d$protein <- rin(x[keep])
          start <- c(null[1], 0, null[-1])
          start[is.na(start)] <- 0
          fw <- tryCatch(suppressWarnings(glm(f, family = binomial, data = d, start = start,
                                              control = glm.control(epsilon = 1e-12, maxit = 50))),
                         error = function(e) NULL)
          if (!is.null(fw) && "protein" %in% rownames(sw <- coef(summary(fw)))) {
            iter_warm <- fw$iter
            beta_tight <- sw["protein", 1]
            se_tight <- sw["protein", 2]
          }
        }
        add_fit(tool = "R_glm", analysis = m, outcome = y, predictor = "protein", protein = proteins[i],
                obs_ct = r[1], case_ct = r[2], beta = r[3], se = r[4], p = r[5], iter = r[6], converged = r[7],
                iter_warm = iter_warm, beta_tight = beta_tight, se_tight = se_tight)
      }
    }
  }
  add_time("loop", loop_s, nfit)
} else if (mode == "lm") {
  covs <- full
  f <- as.formula(paste("protein ~ isolation +", paste(covs, collapse = " + ")))
  d0 <- part[, c("isolation", covs)]
  cc0 <- complete.cases(d0)
  t0 <- proc.time()[["elapsed"]]
  res <- lapply(proteins, function(pr) {
    x <- npx[pr, ]
    keep <- cc0 & !is.na(x)
    d <- d0[keep, ]
    d$protein <- rin(x[keep])
    s <- coef(summary(lm(f, data = d)))
    if (!"isolation" %in% rownames(s)) return(c(nrow(d), NA, NA, NA))
    c(nrow(d), s["isolation", 1:2], s["isolation", 4])
  })
  add_time("loop", proc.time()[["elapsed"]] - t0, length(proteins))
  for (i in seq_along(proteins))
    add_fit(tool = "R_lm", analysis = "linear", outcome = proteins[i], predictor = "isolation", protein = proteins[i],
            obs_ct = res[[i]][1], case_ct = NA, beta = res[[i]][2], se = res[[i]][3], p = res[[i]][4], iter = NA,
            converged = NA, iter_warm = NA, beta_tight = NA, se_tight = NA)
} else if (mode == "limma") {
  suppressPackageStartupMessages(library(limma))
  covs <- full
  d0 <- part[, c("isolation", covs)]
  cc0 <- complete.cases(d0)
  t0 <- proc.time()[["elapsed"]]
  design <- model.matrix(as.formula(paste("~ isolation +", paste(covs, collapse = " + "))), data = d0[cc0, ])
  y <- npx[proteins, cc0, drop = FALSE]
  for (j in seq_len(nrow(y))) {
    ok <- !is.na(y[j, ])
    y[j, ok] <- rin(y[j, ok])
  }
  add_time("rin", proc.time()[["elapsed"]] - t0, nrow(y))
  t0 <- proc.time()[["elapsed"]]
  fit <- lmFit(y, design)
  add_time("lmFit", proc.time()[["elapsed"]] - t0, nrow(y))
  se <- fit$stdev.unscaled[, "isolation"] * fit$sigma
  t <- fit$coefficients[, "isolation"] / se
  pv <- 2 * pt(-abs(t), fit$df.residual)
  fits[[1]] <- data.frame(tool = "limma", analysis = "linear", outcome = proteins, predictor = "isolation",
                          protein = proteins, obs_ct = fit$df.residual + ncol(design), case_ct = NA,
                          beta = fit$coefficients[, "isolation"], se = se, p = pv, iter = NA, converged = NA,
                          iter_warm = NA, beta_tight = NA, se_tight = NA)
} else if (mode == "plink") {
  dir <- out
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  writeLines(proteins, file.path(dir, "proteins.txt"))
  dummies <- function(d, covs) {  # numeric covariate matrix, categorical ones as 0/1 dummies (no intercept)
    mm <- model.matrix(as.formula(paste("~", paste(covs, collapse = " + "))), data = d)[, -1, drop = FALSE]
    colnames(mm) <- make.names(colnames(mm))
    mm
  }
  write_ids <- function(ids, file) writeLines(c("#FID\tIID", paste(ids, ids, sep = "\t")), file)
  for (m in names(models)) {
    covs <- models[[m]]
    for (y in exposures) {
      tag <- paste(m, y, sep = "_")
      d0 <- part[, c(y, covs)]
      cc0 <- complete.cases(d0)
      ids <- eid[cc0]
      write_ids(ids, file.path(dir, paste0(tag, ".psam")))
      write.table(data.frame(FID = ids, IID = ids, Y = d0[cc0, y] + 1), file.path(dir, paste0(tag, ".pheno")),
                  sep = "\t", quote = FALSE, row.names = FALSE)
      write.table(data.frame(FID = ids, IID = ids, dummies(d0[cc0, ], covs), check.names = FALSE),
                  file.path(dir, paste0(tag, ".covar")), sep = "\t", quote = FALSE, row.names = FALSE)
      dos <- npx[proteins, cc0, drop = FALSE]
      for (j in seq_len(nrow(dos))) {
        ok <- !is.na(dos[j, ])
        dos[j, ok] <- 1 + rin(dos[j, ok]) / 5
      }
      writeBin(as.vector(t(dos)), file.path(dir, paste0(tag, ".dosage.f32")), size = 4)  # [protein, sample]
    }
  }
  # Linear direction: isolation as the one variant, RIN proteins as phenotypes, full covariates.
  covs <- full
  d0 <- part[, c("isolation", covs)]
  cc0 <- complete.cases(d0)
  ids <- eid[cc0]
  write_ids(ids, file.path(dir, "linear.psam"))
  write.table(data.frame(FID = ids, IID = ids, dummies(d0[cc0, ], covs), check.names = FALSE),
              file.path(dir, "linear.covar"), sep = "\t", quote = FALSE, row.names = FALSE)
  writeLines(paste(c("ISOLATION", "E", "N", d0[cc0, "isolation"]), collapse = "\t"), file.path(dir, "linear.dosage"))
  y <- npx[proteins, cc0, drop = FALSE]
  for (j in seq_len(nrow(y))) {
    ok <- !is.na(y[j, ])
    y[j, ok] <- rin(y[j, ok])
  }
  writeBin(as.vector(t(y)), file.path(dir, "linear.pheno.f64"), size = 8)  # [protein, sample], exact RIN
} else {
  stop("unknown mode ", mode)
}

if (mode != "plink") {
  write.table(do.call(rbind, fits), paste0(out, ".fits.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
  write.table(timing, paste0(out, ".timing.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
}
