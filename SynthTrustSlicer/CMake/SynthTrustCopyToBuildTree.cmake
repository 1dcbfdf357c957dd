# Run with `cmake -DSOURCE_DIR=<checkout> -DDESTINATION_DIR=<qt-scripted-modules dir> -P <this file>`
# (the SynthTrustSlicerBuildTreeFiles target does, on every build): copies Resources/ and the synthtrust
# core from the checkout next to the built module, as installing does. file(COPY) keeps timestamps and
# skips files whose copy is up to date, so a build after an edit copies just the edited files.
foreach(_required SOURCE_DIR DESTINATION_DIR)
  if(NOT DEFINED ${_required})
    message(FATAL_ERROR "${_required} is not set; pass -D${_required}=<folder>")
  endif()
endforeach()

file(COPY "${SOURCE_DIR}/Resources/"
  DESTINATION "${DESTINATION_DIR}/SynthTrustSlicer/Resources")
file(COPY "${SOURCE_DIR}/Logic/synthtrust"
  DESTINATION "${DESTINATION_DIR}"
  PATTERN "__pycache__" EXCLUDE)
